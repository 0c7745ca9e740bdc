#include "control-plane/admin_api.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace warden::control_plane {

void AddAdminRoutes(http::Router& router, ControlPlane& cp, const AdminLimits& limits) {
  using http::Method;
  router.Add(Method::kGet, "/v1/revision", Authed(cp, Scope::kRead, 0, [&cp](http::Request&, const Caller&) {
               return http::JsonResponse({{"revision", cp.current()->revision}, {"store_id", cp.store_id()}});
             }));

  // A consistent copy of the whole database, for `wardenctl backup FILE`.
  router.Add(Method::kGet, "/v1/backup", Authed(cp, Scope::kWrite, 0, [&cp](http::Request&, const Caller&) {
               std::string path = cp.store().path() + ".download-" + RandomHex(8) + ".tmp";
               Status status = cp.store().Backup(path);
               if (!status.ok()) return http::ErrorResponse(status);
               std::ifstream in(path, std::ios::binary);
               std::ostringstream data;
               data << in.rdbuf();
               std::error_code ignored;
               std::filesystem::remove(path, ignored);
               http::Response response;
               response.content_type = "application/vnd.sqlite3";
               response.body = std::move(data).str();
               response.with_header("Content-Disposition", "attachment; filename=\"warden-backup.db\"");
               return response;
             }));

  AddDirectoryRoutes(router, cp, limits);
  AddPolicyRoutes(router, cp, limits);
  AddBulkRoutes(router, cp, limits);
  AddDecideRoutes(router, cp, limits);
  AddCredentialRoutes(router, cp, limits);
}

}  // namespace warden::control_plane
