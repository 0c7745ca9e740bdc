// The sync endpoints (docs/sync-protocol.md): GET /v1/sync (the WebSocket hub), and the pull
// fallback GET /v1/snapshot and GET /v1/changes (long poll), plus GET /v1/edges.
#pragma once

#include "common/http/router.h"
#include "control-plane/control_plane.h"
#include "control-plane/sync_hub.h"

namespace warden::control_plane {

// `cp` and `hub` must outlive the router.
void AddSyncRoutes(http::Router& router, ControlPlane& cp, SyncHub& hub);

}  // namespace warden::control_plane
