// The sync endpoints (docs/sync-protocol.md): GET /v1/sync (the WebSocket hub), and the pull
// fallback GET /v1/snapshot and GET /v1/changes (long poll), plus GET /v1/edges.
#pragma once

#include "common/http/router.h"
#include "control-plane/control_plane.h"
#include "control-plane/decision_store.h"
#include "control-plane/sync_hub.h"

namespace warden::control_plane {

// `cp`, `hub` and `decisions` must outlive the router. With `decisions`, each edge in GET
// /v1/edges carries "decision_log": the entries it reported dropping, and how many of them a
// damaged spool lost.
void AddSyncRoutes(http::Router& router, ControlPlane& cp, SyncHub& hub, DecisionStore* decisions = nullptr);

}  // namespace warden::control_plane
