// The decision-log endpoints (docs/decision-logs.md): POST /v1/decision-logs (edges ship batches),
// GET /v1/decisions (query, paged by cursor) and GET /v1/decisions/export (JSON lines).
#pragma once

#include <chrono>
#include <cstdint>

#include "common/http/router.h"
#include "common/metrics/registry.h"
#include "control-plane/control_plane.h"
#include "control-plane/decision_store.h"

namespace warden::control_plane {

struct DecisionLogLimits {
  size_t max_batch_body = 16u << 20;
  size_t max_batch_entries = 10'000;
  std::chrono::hours retain{24 * 30};
  uint64_t max_rows = 100'000'000;
};

// `cp` and `store` must outlive the router.
void AddDecisionRoutes(http::Router& router, ControlPlane& cp, DecisionStore& store, const DecisionLogLimits& limits,
                       metrics::Registry& registry);

}  // namespace warden::control_plane
