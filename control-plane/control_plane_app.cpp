#include "control-plane/control_plane_app.h"

#include "common/http/server_config.h"
#include "common/http/standard_routes.h"
#include "control-plane/admin_api.h"

namespace warden::control_plane {

namespace {
// Imports of a million relations arrive as one body, so the control plane's default is larger
// than the edge's; every endpoint but push and import still stops at max-write-body.
constexpr uint64_t kDefaultMaxBody = 512ull << 20;
// A long import holds one worker; the others keep answering reads, health checks and metrics.
constexpr int kDefaultThreads = 4;
}  // namespace

void AddControlPlaneOptions(config::Options& options) {
  http::AddServerOptions(options, "127.0.0.1:8484");
  options.Add("db", config::OptionType::kString, "", "SQLite database file of the store (created when missing)");
  options.Add("admin-token", config::OptionType::kString, "",
              "bootstrap write token, used only while the store holds no token (set it as WARDEN_ADMIN_TOKEN)");
  options.Add("max-write-body", config::OptionType::kBytes, "16MiB",
              "largest body of a single write (push and import may use up to max-body, 512MiB unless set)");
  options.Add("max-import-lines", config::OptionType::kInt, "5000000", "most lines one /v1/import may hold");
}

Result<std::unique_ptr<ControlPlaneApp>> ControlPlaneApp::Create(const config::Options& options) {
  auto server_options = http::ServerOptionsFrom(options);
  if (!server_options.ok()) return server_options.status();
  if (!options.IsSet("max-body")) server_options->max_body_bytes = kDefaultMaxBody;
  if (!options.IsSet("threads")) server_options->threads = kDefaultThreads;
  const std::string& db = options.GetString("db");
  if (db.empty()) return Status::InvalidArgument("--db: required (the SQLite file of the store)");
  AdminLimits limits;
  limits.max_write_body = options.GetBytes("max-write-body");
  limits.max_bulk_body = server_options->max_body_bytes;
  int64_t lines = options.GetInt("max-import-lines");
  if (lines < 1) return Status::InvalidArgument("--max-import-lines: must be at least 1");
  limits.max_import_lines = static_cast<size_t>(lines);

  std::unique_ptr<ControlPlaneApp> app(new ControlPlaneApp());
  auto cp = ControlPlane::Open(db, options.GetString("admin-token"), app->registry_);
  if (!cp.ok()) return cp.status();
  app->control_plane_ = std::move(*cp);
  app->host_ = server_options->host;
  app->router_ = std::make_unique<http::Router>(app->registry_);
  http::AddStandardRoutes(*app->router_, [] { return std::string(); });
  AddAdminRoutes(*app->router_, *app->control_plane_, limits);
  app->server_ = std::make_unique<http::Server>(std::move(*server_options), *app->router_);
  return app;
}

}  // namespace warden::control_plane
