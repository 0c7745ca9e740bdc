#include "edge/edge_app.h"

#include <fstream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/http/client.h"
#include "common/http/json.h"
#include "common/http/server_config.h"
#include "common/snapshot/expression_limit_options.h"
#include "common/http/standard_routes.h"
#include "edge/api_keys.h"
#include "edge/authzen_api.h"
#include "edge/cerbos_api.h"
#include "edge/directory_api.h"

namespace warden::edge {

EdgeApp::~EdgeApp() {
  // A publish from here on (the folder watcher still runs) must not reach the server it wakes.
  if (context_) context_->holder().SetPublishListener(nullptr);
  // The followers publish into the context's holder; stop them before either goes away.
  if (ws_follower_) ws_follower_->Stop();
  if (pull_follower_) pull_follower_->Stop();
}

Result<std::unique_ptr<EdgeApp>> EdgeApp::Create(const config::Options& options) {
  auto server_options = http::ServerOptionsFrom(options);
  if (!server_options.ok()) return server_options.status();
  std::unique_ptr<EdgeApp> app(new EdgeApp());
  EdgeApp* self = app.get();
  app->host_ = server_options->host;
  app->context_ = std::make_unique<EdgeContext>(app->registry_);
  int64_t max_batch = options.GetInt("max-batch");
  int64_t max_page = options.GetInt("max-page-size");
  if (max_batch < 1) return Status::InvalidArgument("option 'max-batch' must be at least 1");
  if (max_page < 1) return Status::InvalidArgument("option 'max-page-size' must be at least 1");
  app->context_->limits.max_batch_items = static_cast<size_t>(max_batch);
  app->context_->limits.max_page_size = static_cast<size_t>(max_page);
  app->context_->limits.min_revision_wait = options.GetDuration("min-revision-wait");
  int64_t graph_depth = options.GetInt("max-graph-depth");
  int64_t graph_visits = options.GetInt("max-graph-visits");
  int64_t eval_cost = options.GetInt("max-eval-cost");
  if (graph_depth < 1 || graph_depth > 10'000) {
    return Status::InvalidArgument("option 'max-graph-depth' must be between 1 and 10000");
  }
  if (graph_visits < 1) return Status::InvalidArgument("option 'max-graph-visits' must be at least 1");
  if (eval_cost < 1) return Status::InvalidArgument("option 'max-eval-cost' must be at least 1");
  app->context_->limits.decision.graph.max_depth = static_cast<int>(graph_depth);
  app->context_->limits.decision.graph.max_visits = static_cast<size_t>(graph_visits);
  app->context_->limits.decision.max_eval_cost = static_cast<uint64_t>(eval_cost);
  auto expression_limits = ExpressionLimitsFrom(options);
  if (!expression_limits.ok()) return expression_limits.status();
  app->context_->limits.expression = *expression_limits;

  const std::string& data = options.GetString("data");
  const std::string& replica_path = options.GetString("replica");
  if (!data.empty() && !replica_path.empty()) {
    return Status::InvalidArgument("--data (standalone mode) and --replica (following a store) exclude each other");
  }
  if (!replica_path.empty()) {
    const std::string& durability = options.GetString("replica-durability");
    if (durability != "normal" && durability != "full") {
      return Status::InvalidArgument("option 'replica-durability': '" + durability + "' must be normal or full");
    }
    auto replica = Replica::Open(replica_path, durability == "full");
    if (!replica.ok()) return replica.status();
    app->replica_ = std::move(*replica);
    if (app->replica_->discarded()) {
      spdlog::warn("replica {} was damaged; set aside as {}.corrupt, starting empty", replica_path, replica_path);
    }
    auto loaded = app->replica_->Load(*expression_limits);
    if (!loaded.ok()) {
      spdlog::error("replica {} does not load ({}); waiting for a snapshot", replica_path, loaded.status().message());
    } else if (*loaded) {
      spdlog::info("serving revision {} of store {} from replica {}", (*loaded)->revision, (*loaded)->store_id,
                   replica_path);
      app->context_->holder().Publish(std::move(*loaded));
    }
  }
  const std::string& control_plane = options.GetString("control-plane");
  FollowOptions follow_for_logs;
  if (!control_plane.empty()) {
    if (!data.empty()) return Status::InvalidArgument("--data (standalone mode) and --control-plane exclude each other");
    FollowOptions follow;
    follow.control_plane_url = control_plane;
    while (!follow.control_plane_url.empty() && follow.control_plane_url.back() == '/') follow.control_plane_url.pop_back();
    if (!http::ParseUrl(follow.control_plane_url).ok()) {
      return Status::InvalidArgument("option 'control-plane': '" + control_plane +
                                     "' must be http://HOST:PORT or https://HOST:PORT");
    }
    follow.tls.ca_file = options.GetString("control-plane-ca");
    if (!follow.tls.ca_file.empty()) {
      http::ClientTlsFiles ca_only;
      ca_only.ca_file = follow.tls.ca_file;
      auto checked = http::MakeClientTlsContext(ca_only);
      if (!checked.ok()) return Status::InvalidArgument("option 'control-plane-ca': " + checked.status().message());
    }
    follow.tls.cert_file = options.GetString("control-plane-cert");
    follow.tls.key_file = options.GetString("control-plane-key");
    if (follow.tls.cert_file.empty() != follow.tls.key_file.empty()) {
      return Status::InvalidArgument(follow.tls.cert_file.empty() ? "option 'control-plane-key' needs --control-plane-cert"
                                                                  : "option 'control-plane-cert' needs --control-plane-key");
    }
    if (!follow.tls.cert_file.empty()) {
      auto checked = http::MakeClientTlsContext(follow.tls);
      if (!checked.ok()) {
        return Status::InvalidArgument("options 'control-plane-cert' and 'control-plane-key': " +
                                       checked.status().message());
      }
    }
    const std::string& mode = options.GetString("sync-mode");
    if (mode != "ws" && mode != "pull" && mode != "auto") {
      return Status::InvalidArgument("option 'sync-mode': '" + mode + "' must be ws, pull or auto");
    }
    const std::string& key_file = options.GetString("key-file");
    if (key_file.empty()) return Status::InvalidArgument("--control-plane needs --key-file");
    std::ifstream key(key_file);
    if (!key) return Status::InvalidArgument("option 'key-file': cannot read '" + key_file + "'");
    std::getline(key, follow.key);
    while (!follow.key.empty() && (follow.key.back() == '\r' || follow.key.back() == ' ')) follow.key.pop_back();
    if (follow.key.empty()) return Status::InvalidArgument("option 'key-file': '" + key_file + "' is empty");
    follow.poll_interval = options.GetDuration("sync-poll-interval");
    follow_for_logs = follow;
    app->applier_ = std::make_unique<SyncApplier>(app->context_->holder(), app->replica_.get(), app->registry_,
                                                 *expression_limits);
    if (mode == "pull") {
      app->pull_follower_ = std::make_unique<PullFollower>(follow, *app->applier_);
    } else {
      WsFollowOptions ws;
      ws.follow = follow;
      ws.fall_back_to_pull = mode == "auto";
      ws.build = WARDEN_EDGE_VERSION;
      ws.address = server_options->host + ":" + std::to_string(server_options->port);
      auto follower = WsFollower::Create(ws, *app->applier_);
      if (!follower.ok()) return follower.status();
      app->ws_follower_ = std::move(*follower);
    }
  }
  WARDEN_RETURN_IF_ERROR(app->OpenDecisionLog(options, control_plane.empty() ? nullptr : &follow_for_logs));
  if (!data.empty()) {
    app->standalone_ = std::make_unique<StandaloneSource>(data, app->context_->holder(), options.GetDuration("poll-interval"),
                                                         *expression_limits);
    Status loaded = app->standalone_->LoadNow();
    if (loaded.code() == StatusCode::kFailedPrecondition) {
      // An empty folder may be filled later (a volume mounted, a checkout finishing): wait for it,
      // not ready, rather than exit or serve deny-everything as if that were the policy.
      spdlog::warn("{}; not ready until it does (watching it)", loaded.message());
    } else if (!loaded.ok()) {
      return Status::InvalidArgument("cannot load --data " + data + ":\n" + loaded.message());
    }
    app->standalone_->StartWatching();
  }

  auto api_keys = ApiKeys::Load(options.GetString("api-key"), options.GetString("api-key-file"));
  if (!api_keys.ok()) return api_keys.status();
  app->router_ = std::make_unique<http::Router>(app->registry_);
  if (api_keys->enabled()) {
    app->router_->SetGuard([keys = std::move(*api_keys)](const http::Request& request) { return keys.Check(request); });
  }
  http::AddStandardRoutes(*app->router_, [self] { return self->NotReadyReason(); });
  // The do-nothing endpoint: what the HTTP layer alone costs, the ceiling checks are compared with.
  app->router_->Add(http::Method::kGet, "/v1/ping", [](http::Request&) {
    http::Response response;
    response.body = "{}";
    return response;
  });
  app->router_->Add(http::Method::kGet, "/v1/status", [self](http::Request&) {
    auto snapshot = self->context_->holder().Current();
    nlohmann::json status = {{"ready", self->NotReadyReason().empty()},
                             {"mode", self->standalone_ ? "standalone"
                                      : self->applier_ ? "following"
                                      : (self->replica_ ? "replica" : "none")},
                             {"revision", snapshot ? snapshot->revision : 0}};
    if (!self->NotReadyReason().empty()) status["reason"] = self->NotReadyReason();
    if (snapshot) {
      status["store_id"] = snapshot->store_id;
      status["snapshot"] = {{"policies", snapshot->policies->policy_count()},
                            {"objects", snapshot->directory->object_count()},
                            {"relations", snapshot->directory->relation_count()},
                            {"age_seconds", std::chrono::duration<double>(std::chrono::system_clock::now() -
                                                                          snapshot->created_at).count()}};
    }
    // No instance UUID: anyone who reaches the edge API reads this, and the UUID is what another
    // edge group would need to claim this edge's decision logs (operators find it in /v1/edges).
    if (self->applier_) {
      status["sync"] = self->applier_->StatusJson();
      status["sync"].erase("instance_id");
    }
    if (self->decision_log_) status["decision_log"] = self->decision_log_->StatusJson();
    if (self->standalone_) {
      std::string error = self->standalone_->last_error();
      status["last_load_error"] = error.empty() ? nlohmann::json() : nlohmann::json(error);
    }
    return http::JsonResponse(status);
  });
  AddAuthzenRoutes(*app->router_, *app->context_);
  AddAuthzenSearchRoutes(*app->router_, *app->context_);
  AddCerbosRoutes(*app->router_, *app->context_);
  AddDirectoryRoutes(*app->router_, *app->context_);
  app->server_ = std::make_unique<http::Server>(std::move(*server_options), *app->router_);
  // Requests that carry a Warden-Min-Revision ahead of this edge wait in the server; each new
  // snapshot has them look again, so they are answered as soon as their revision lands.
  app->context_->holder().SetPublishListener([server = app->server_.get()] { server->WakeWaitingRequests(); });
  return app;
}

std::string EdgeApp::NotReadyReason() const {
  if (context_->holder().revision() == 0) {
    if (standalone_) {
      std::string error = standalone_->last_error();
      return error.empty() ? "the data folder has not loaded" : "the data folder has not loaded: " + error;
    }
    if (applier_) return "no revision received from the control plane yet (this edge has never synced)";
    if (replica_) return "the replica holds no snapshot yet (this edge has never synced)";
    return "no snapshot loaded: start with --data DIR or --replica FILE";
  }
  return "";
}

Status EdgeApp::OpenDecisionLog(const config::Options& options, const FollowOptions* follow) {
  std::string modes = options.GetString("decision-log");
  if (modes.empty()) modes = follow ? "all" : "off";
  DecisionLogOptions log;
  WARDEN_RETURN_IF_ERROR(ParseDecisionLogModes(modes, log));
  if (log.mode == std::array<int, kDecisionApiCount>{{0, 0, 0}}) return Status::Ok();
  log.spool_path = options.GetString("decision-log-spool");
  if (log.spool_path.empty()) {
    const std::string& replica = options.GetString("replica");
    if (replica.empty()) {
      return Status::InvalidArgument("--decision-log needs --decision-log-spool FILE (or --replica, beside which it goes)");
    }
    log.spool_path = replica + ".decisions";
  }
  auto split = [](const std::string& text) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start < text.size()) {
      size_t comma = text.find(',', start);
      if (comma == std::string::npos) comma = text.size();
      if (comma > start) parts.push_back(text.substr(start, comma - start));
      start = comma + 1;
    }
    return parts;
  };
  log.mask_pointers = split(options.GetString("decision-log-mask"));
  log.drop_pointers = split(options.GetString("decision-log-drop"));
  int64_t max_spool = options.GetInt("decision-log-max-spool");
  int64_t queue = options.GetInt("decision-log-queue");
  int64_t batch = options.GetInt("decision-log-batch");
  if (max_spool < 1 || queue < 1 || batch < 1) {
    return Status::InvalidArgument("--decision-log-max-spool, --decision-log-queue and --decision-log-batch must be at least 1");
  }
  log.max_spool_entries = static_cast<size_t>(max_spool);
  log.queue_capacity = static_cast<size_t>(queue);
  log.batch_entries = static_cast<size_t>(batch);
  log.flush_interval = options.GetDuration("decision-log-flush");
  log.max_field_bytes = options.GetBytes("decision-log-max-field");
  if (follow) {
    log.control_plane_url = follow->control_plane_url;
    log.key = follow->key;
    log.tls = follow->tls;
  }
  auto opened = DecisionLog::Open(std::move(log), registry_);
  if (!opened.ok()) return opened.status();
  decision_log_ = std::move(*opened);
  // One identity per edge: the spool's (a lost spool means a new identity, so its new sequence
  // numbers are never taken for old ones); the replica and the sync hello adopt it.
  if (replica_ && replica_->instance_id() != decision_log_->instance_id()) {
    WARDEN_RETURN_IF_ERROR(replica_->SetInstanceId(decision_log_->instance_id()));
  }
  if (applier_) applier_->SetInstanceId(decision_log_->instance_id());
  context_->decision_log = decision_log_.get();
  decision_log_->Start();
  spdlog::info("decision log: {} ({}), instance {}", modes, options.GetString("decision-log-spool").empty()
                                                                 ? options.GetString("replica") + ".decisions"
                                                                 : options.GetString("decision-log-spool"),
               decision_log_->instance_id());
  return Status::Ok();
}

void EdgeApp::StartFollowing() {
  if (following_started_) return;
  following_started_ = true;
  if (pull_follower_) pull_follower_->Start();
  if (ws_follower_) {
    ws_follower_->SetAddress(host_ + ":" + std::to_string(server_->port()));
    ws_follower_->SetDecisionLog(decision_log_.get());
    ws_follower_->Start();
  }
}

void EdgeApp::Reload() {
  if (!standalone_) return;
  Status loaded = standalone_->LoadNow();
  if (!loaded.ok()) spdlog::error("reload failed; still serving the last good snapshot:\n{}", loaded.message());
}

}  // namespace warden::edge
