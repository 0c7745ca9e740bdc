// The admin REST API (docs/control-plane-api.md): every /v1 route operators and wardenctl use.
//
// Each handler is a plain function of the request; reads answer from the control plane's
// in-memory snapshot, writes go through ControlPlane::Write and answer {"revision": N, ...}.
#pragma once

#include "common/http/router.h"
#include "control-plane/api_support.h"
#include "control-plane/control_plane.h"

namespace warden::control_plane {

// Registers every admin route on `router`. `cp` must outlive the router.
void AddAdminRoutes(http::Router& router, ControlPlane& cp, const AdminLimits& limits);

// The parts, one file each.
void AddDirectoryRoutes(http::Router& router, ControlPlane& cp, const AdminLimits& limits);   // objects, relations, manifest
void AddPolicyRoutes(http::Router& router, ControlPlane& cp, const AdminLimits& limits);      // policies, policy sets, rollback
void AddBulkRoutes(http::Router& router, ControlPlane& cp, const AdminLimits& limits);        // push, import
void AddCredentialRoutes(http::Router& router, ControlPlane& cp, const AdminLimits& limits);  // keys, tokens
void AddDecideRoutes(http::Router& router, ControlPlane& cp, const AdminLimits& limits);      // check, evaluation

}  // namespace warden::control_plane
