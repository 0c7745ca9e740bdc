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

  // The change log, for audits and for tools that follow writes (sync streams the same entries).
  router.Add(Method::kGet, "/v1/changes", Authed(cp, Scope::kRead, 0, [&cp](http::Request& request, const Caller&) {
               auto after = QueryUint(request, "after", 0, 0, UINT64_MAX);
               if (!after.ok()) return http::ErrorResponse(after.status());
               auto limit = QueryUint(request, "limit", 100, 1, 10'000);
               if (!limit.ok()) return http::ErrorResponse(limit.status());
               auto changes = cp.store().Changes(*after, *limit);
               if (!changes.ok()) return http::ErrorResponse(changes.status());
               nlohmann::json out = nlohmann::json::array();
               for (const auto& c : *changes) {
                 out.push_back({{"revision", c.revision},
                                {"author", c.author},
                                {"time", Rfc3339(c.created_at)},
                                {"ops", nlohmann::json::parse(c.ops_json)}});
               }
               return http::JsonResponse({{"changes", out}, {"revision", cp.current()->revision}});
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
  AddCredentialRoutes(router, cp, limits);
}

}  // namespace warden::control_plane
