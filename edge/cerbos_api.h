// Cerbos's HTTP API at the edge, so existing Cerbos clients (@cerbos/http and others) work:
//   POST /api/check/resources   effects per resource and action (CheckResources)
//   POST /api/plan/resources    a query plan for a resource kind (PlanResources)
// Principals and resources the directory knows are enriched with their stored roles and
// properties first, like every other API.
#pragma once

#include "common/http/router.h"
#include "edge/edge_context.h"

namespace warden::edge {

void AddCerbosRoutes(http::Router& router, EdgeContext& context);

}  // namespace warden::edge
