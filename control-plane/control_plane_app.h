// ControlPlaneApp: the control plane assembled: its store, its routes and its server.
#pragma once

#include <memory>

#include "common/config/options.h"
#include "common/http/router.h"
#include "common/http/server.h"
#include "common/metrics/registry.h"
#include "control-plane/control_plane.h"
#include "control-plane/decision_api.h"
#include "control-plane/decision_store.h"
#include "control-plane/sync_hub.h"

namespace warden::control_plane {

// Declares the server options plus db, admin-token, max-write-body and max-import-lines.
void AddControlPlaneOptions(config::Options& options);

class ControlPlaneApp {
 public:
  // Opens the store (migrating it), loads the current snapshot and registers the routes. Fails
  // with FailedPrecondition when the database is newer than this binary (main exits 2), with
  // InvalidArgument for a missing --db or a bad option.
  static Result<std::unique_ptr<ControlPlaneApp>> Create(const config::Options& options);

  http::Server& server() { return *server_; }
  const std::string& host() const { return host_; }
  ControlPlane& control_plane() { return *control_plane_; }
  SyncHub& hub() { return *hub_; }
  // SIGHUP (after the main listener reloaded its certificate): the sync listener's too.
  void Reload();
  // The first step of a shutdown: long polls answer now instead of holding the graceful stop.
  void ReleaseWaiters();
  ~ControlPlaneApp();

 private:
  ControlPlaneApp() = default;

  metrics::Registry registry_;
  std::unique_ptr<ControlPlane> control_plane_;
  std::unique_ptr<SyncHub> hub_;
  std::unique_ptr<DecisionStore> decisions_;
  std::unique_ptr<DecisionIngest> decision_ingest_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::Server> server_;
  // --sync-listen: the sync endpoints on a listener of their own.
  std::unique_ptr<http::Router> sync_router_;
  std::unique_ptr<http::Server> sync_server_;
  std::string host_;
};

}  // namespace warden::control_plane
