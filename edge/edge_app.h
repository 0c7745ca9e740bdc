// EdgeApp: the edge authorizer assembled: its routes, its server, and where its snapshots come
// from (a standalone folder, or a control plane followed over sync, with a replica).
#pragma once

#include <memory>

#include "common/config/options.h"
#include "common/http/router.h"
#include "common/http/server.h"
#include "common/metrics/registry.h"
#include "edge/decision_log.h"
#include "edge/edge_context.h"
#include "edge/pull_follower.h"
#include "edge/sync_applier.h"
#include "edge/ws_follower.h"
#include "edge/replica.h"
#include "edge/standalone_source.h"

namespace warden::edge {

class EdgeApp {
 public:
  // Builds the app from parsed options and loads its first snapshot. Fails with a Status naming
  // a bad option, or listing every problem in the data folder.
  static Result<std::unique_ptr<EdgeApp>> Create(const config::Options& options);
  ~EdgeApp();

  http::Server& server() { return *server_; }
  const std::string& host() const { return host_; }
  EdgeContext& context() { return *context_; }
  // Why the edge cannot answer checks yet ("" when it can); /readyz reports it.
  std::string NotReadyReason() const;
  // Starts following the control plane (when configured) once the server listens, so the hello
  // names the edge's real address. Tests and tools that embed the app call it themselves.
  void StartFollowing();
  // SIGHUP: reload the data folder now.
  void Reload();

 private:
  EdgeApp() = default;
  // Opens and starts the decision log the options ask for (none when they ask for none).
  Status OpenDecisionLog(const config::Options& options, const FollowOptions* follow);

  metrics::Registry registry_;
  std::unique_ptr<EdgeContext> context_;
  std::unique_ptr<DecisionLog> decision_log_;
  std::unique_ptr<StandaloneSource> standalone_;
  std::unique_ptr<Replica> replica_;
  std::unique_ptr<SyncApplier> applier_;
  std::unique_ptr<PullFollower> pull_follower_;
  std::unique_ptr<WsFollower> ws_follower_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::Server> server_;
  std::string host_;
  bool following_started_ = false;
};

}  // namespace warden::edge
