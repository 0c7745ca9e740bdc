#include "control-plane/control_plane_app.h"

#include "common/http/server_config.h"
#include "common/http/standard_routes.h"
#include "common/snapshot/expression_limit_options.h"
#include "control-plane/admin_api.h"
#include "control-plane/decision_api.h"
#include "control-plane/sync_api.h"

#include <cstdio>

#include <spdlog/spdlog.h>

namespace warden::control_plane {

void AddControlPlaneOptions(config::Options& options) {
  http::ServerDefaults defaults;
  defaults.listen = "127.0.0.1:8484";
  // A long import holds one worker; the others keep answering reads, health checks and metrics.
  defaults.threads = 4;
  // Imports of a million relations arrive as one body, so the control plane's default is larger
  // than the edge's; every endpoint but push and import still stops at max-write-body.
  defaults.max_body = "512MiB";
  http::AddServerOptions(options, defaults);
  options.Add("db", config::OptionType::kString, "", "SQLite database file of the store (created when missing)");
  options.Add("admin-token", config::OptionType::kString, "",
              "bootstrap write token, used only while the store holds no token (set it as WARDEN_ADMIN_TOKEN)");
  options.Add("max-write-body", config::OptionType::kBytes, "16MiB",
              "largest body of a single write (push and import may use up to max-body)");
  options.Add("max-import-lines", config::OptionType::kInt, "5000000", "most lines one /v1/import may hold");
  options.Add("decision-log-db", config::OptionType::kString, "",
              "SQLite file of the decision logs (default: DB.decisions beside --db)");
  options.Add("decision-log-retain-hours", config::OptionType::kInt, "720",
              "decision-log entries older than this are deleted (0: keep)");
  options.Add("decision-log-max-rows", config::OptionType::kInt, "100000000",
              "beyond this many entries the oldest are deleted (0: no bound)");
  options.Add("sync-listen", config::OptionType::kString, "",
              "HOST:PORT for the sync endpoints on a listener of their own (default: the main listener)");
  options.Add("sync-heartbeat", config::OptionType::kDuration, "10s",
              "interval of sync heartbeats; a session silent for 3 intervals ends");
  options.Add("sync-window", config::OptionType::kInt, "64", "unacked revisions in flight per edge");
  options.Add("sync-window-bytes", config::OptionType::kBytes, "8MiB", "unacked bytes in flight per edge");
  options.Add("change-log-retain", config::OptionType::kInt, "100000",
              "revisions whose ops the change log keeps (0: all); edges further behind get a snapshot");
  AddExpressionLimitOptions(options);
}

Result<std::unique_ptr<ControlPlaneApp>> ControlPlaneApp::Create(const config::Options& options) {
  auto server_options = http::ServerOptionsFrom(options);
  if (!server_options.ok()) return server_options.status();
  const std::string& db = options.GetString("db");
  if (db.empty()) return Status::InvalidArgument("--db: required (the SQLite file of the store)");
  AdminLimits limits;
  limits.max_write_body = options.GetBytes("max-write-body");
  limits.max_bulk_body = server_options->max_body_bytes;
  int64_t lines = options.GetInt("max-import-lines");
  if (lines < 1) return Status::InvalidArgument("--max-import-lines: must be at least 1");
  limits.max_import_lines = static_cast<size_t>(lines);
  limits.max_json_depth = server_options->max_json_depth;

  std::unique_ptr<ControlPlaneApp> app(new ControlPlaneApp());
  auto expression_limits = ExpressionLimitsFrom(options);
  if (!expression_limits.ok()) return expression_limits.status();
  auto cp = ControlPlane::Open(db, options.GetString("admin-token"), app->registry_, *expression_limits);
  if (!cp.ok()) return cp.status();
  app->control_plane_ = std::move(*cp);
  app->host_ = server_options->host;
  int64_t retain = options.GetInt("change-log-retain");
  if (retain < 0) return Status::InvalidArgument("--change-log-retain: must be 0 (keep all) or more");
  app->control_plane_->store().SetChangeLogRetention(static_cast<uint64_t>(retain));
  HubOptions hub_options;
  hub_options.heartbeat = options.GetDuration("sync-heartbeat");
  if (hub_options.heartbeat.count() < 10) return Status::InvalidArgument("--sync-heartbeat: at least 10ms");
  int64_t window = options.GetInt("sync-window");
  if (window < 1) return Status::InvalidArgument("--sync-window: at least 1");
  hub_options.window_revisions = static_cast<size_t>(window);
  hub_options.window_bytes = std::max<uint64_t>(1, options.GetBytes("sync-window-bytes"));
  app->hub_ = std::make_unique<SyncHub>(*app->control_plane_, hub_options, app->registry_);
  SyncHub* hub = app->hub_.get();
  app->control_plane_->SetListeners([hub](uint64_t revision) { hub->OnCommit(revision); },
                                    [hub](const std::string& key_id) { hub->OnKeyRevoked(key_id); });

  std::string decision_db = options.GetString("decision-log-db");
  if (decision_db.empty()) decision_db = db + ".decisions";
  ControlPlane* control_plane = app->control_plane_.get();
  auto decisions = DecisionStore::Open(decision_db, [control_plane](const std::string& key_id) {
    auto name = control_plane->KeyName(key_id);
    return name.ok() ? std::optional<std::string>(*name) : std::nullopt;
  });
  if (!decisions.ok()) return decisions.status().WithPrefix("decision-log-db " + decision_db);
  app->decisions_ = std::move(*decisions);
  DecisionLogLimits decision_limits;
  decision_limits.max_batch_body = limits.max_write_body;
  int64_t retain_hours = options.GetInt("decision-log-retain-hours");
  int64_t max_rows = options.GetInt("decision-log-max-rows");
  if (retain_hours < 0 || max_rows < 0) {
    return Status::InvalidArgument("--decision-log-retain-hours and --decision-log-max-rows: must be 0 or more");
  }
  decision_limits.retain = std::chrono::hours(retain_hours);
  decision_limits.max_rows = static_cast<uint64_t>(max_rows);

  app->router_ = std::make_unique<http::Router>(app->registry_);
  http::AddStandardRoutes(*app->router_, [] { return std::string(); });
  AddAdminRoutes(*app->router_, *app->control_plane_, limits);
  app->decision_ingest_ = std::make_unique<DecisionIngest>(*app->decisions_, decision_limits, app->registry_);
  AddDecisionRoutes(*app->router_, *app->control_plane_, *app->decisions_, *app->decision_ingest_);
  DecisionIngest* ingest = app->decision_ingest_.get();
  ingest->SetKeyGroupOf([control_plane](const std::string& key_id) { return control_plane->KeyName(key_id); });
  hub->SetDecisionSink([ingest](const std::string& key_id, const nlohmann::json& batch) {
    return ingest->Ingest(key_id, batch);
  });
  DecisionStore* decision_store = app->decisions_.get();
  hub->SetInstanceBinder([decision_store](const std::string& instance_id, const std::string& key_group) {
    return decision_store->BindInstance(instance_id, key_group);
  });
  const std::string& sync_listen = options.GetString("sync-listen");
  if (sync_listen.empty()) {
    AddSyncRoutes(*app->router_, *app->control_plane_, *hub, decision_store);
  } else {
    auto sync_options = *server_options;
    size_t colon = sync_listen.rfind(':');
    if (colon == std::string::npos) return Status::InvalidArgument("--sync-listen: must be HOST:PORT");
    sync_options.host = sync_listen.substr(0, colon);
    try {
      int port = std::stoi(sync_listen.substr(colon + 1));
      if (port < 0 || port > 65535) throw std::out_of_range("port");
      sync_options.port = static_cast<uint16_t>(port);
    } catch (const std::exception&) {
      return Status::InvalidArgument("--sync-listen: '" + sync_listen + "' has no valid port");
    }
    app->sync_router_ = std::make_unique<http::Router>(app->registry_);
    AddSyncRoutes(*app->sync_router_, *app->control_plane_, *hub, decision_store);
    AddDecisionIngestRoute(*app->sync_router_, *app->control_plane_, *app->decision_ingest_);
    app->sync_server_ = std::make_unique<http::Server>(sync_options, *app->sync_router_);
    WARDEN_RETURN_IF_ERROR(app->sync_server_->Start());
    std::printf("warden-control-plane sync endpoints on %s://%s:%u\n", sync_options.tls_cert_file.empty() ? "ws" : "wss",
                sync_options.host.c_str(), app->sync_server_->port());
    std::fflush(stdout);
  }
  app->server_ = std::make_unique<http::Server>(std::move(*server_options), *app->router_);
  // Long polls of GET /v1/changes wait in whichever server serves it; each commit (and the
  // shutdown's release) has them look again.
  hub->SetLongPollWaker([server = app->server_.get(), sync_server = app->sync_server_.get()] {
    server->WakeWaitingRequests();
    if (sync_server) sync_server->WakeWaitingRequests();
  });
  hub->Start();
  return app;
}

void ControlPlaneApp::Reload() {
  // Tokens made offline (warden-control-plane token create) take effect without a restart.
  if (Status tokens = control_plane_->ReloadTokens(); !tokens.ok()) {
    spdlog::error("tokens not reloaded: {}", tokens.message());
  } else {
    spdlog::info("reloaded admin tokens");
  }
  if (!sync_server_ || !sync_server_->tls()) return;
  Status reloaded = sync_server_->ReloadTls();
  if (!reloaded.ok()) spdlog::error("sync listener: TLS certificate not reloaded: {}", reloaded.message());
}

void ControlPlaneApp::ReleaseWaiters() {
  if (hub_) hub_->ReleaseLongPolls();
}

ControlPlaneApp::~ControlPlaneApp() {
  // Waiting long polls answer now rather than holding the servers' graceful stop.
  ReleaseWaiters();
  if (sync_server_) sync_server_->Stop();
  if (server_) server_->Stop();
  if (hub_) {
    hub_->SetLongPollWaker(nullptr);
    hub_->Stop();
  }
}

}  // namespace warden::control_plane
