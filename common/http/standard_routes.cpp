#include "common/http/standard_routes.h"

#include <nlohmann/json.hpp>

#include "common/http/json.h"

namespace warden::http {

void AddStandardRoutes(Router& router, std::function<std::string()> not_ready_reason) {
  router.Add(Method::kGet, "/healthz", [](Request&) {
    Response response;
    response.body = R"({"status":"ok"})";
    return response;
  });
  router.Add(Method::kGet, "/readyz", [reason_of = std::move(not_ready_reason)](Request&) {
    std::string reason = reason_of ? reason_of() : std::string();
    if (reason.empty()) return JsonResponse({{"status", "ready"}});
    return JsonResponse({{"status", "not_ready"}, {"reason", reason}}, 503);
  });
  metrics::Registry* registry = &router.registry();
  router.Add(Method::kGet, "/metrics", [registry](Request&) {
    Response response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = registry->RenderPrometheus();
    return response;
  });
}

}  // namespace warden::http
