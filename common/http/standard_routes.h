// The routes every Warden server answers, implemented once.
//
//   GET /healthz  200 {"status":"ok"} while the process serves at all (liveness)
//   GET /readyz   200 {"status":"ready"} once `not_ready_reason` returns "", else
//                 503 {"status":"not_ready","reason":"..."} (readiness)
//   GET /metrics  the router's metrics registry in Prometheus text format
#pragma once

#include <functional>
#include <string>

#include "common/http/router.h"

namespace warden::http {

// `not_ready_reason` is called on each /readyz request from worker threads; it must be
// thread-safe and cheap.
void AddStandardRoutes(Router& router, std::function<std::string()> not_ready_reason);

}  // namespace warden::http
