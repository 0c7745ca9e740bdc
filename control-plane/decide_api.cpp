// Decisions asked of the control plane itself (docs/control-plane-api.md, "Checks"): an operator's
// live check against the latest revision, with its explanation, as `zed permission check` and
// `topaz ds check` give. Edges answer applications; these answer people, so every answer explains.
#include "common/directory/json_api.h"
#include "common/wire/authzen.h"
#include "control-plane/admin_api.h"

namespace warden::control_plane {

namespace {

using http::Method;
using nlohmann::json;

// An operator's batch, not an application's: the edge's default batch bound.
constexpr size_t kMaxEvaluations = 1000;

// The body as a JSON object, or the error response to send (naming the byte where it broke).
std::optional<http::Response> ReadBody(const http::Request& request, json& body) {
  if (auto error = http::ParseJsonBody(request, body)) return error;
  if (!body.is_object()) return http::ErrorResponse(400, "invalid_argument", "request body: must be a JSON object");
  return std::nullopt;
}

}  // namespace

void AddDecideRoutes(http::Router& router, ControlPlane& cp, const AdminLimits& limits) {
  router.Add(Method::kPost, "/v1/check",
             Authed(cp, Scope::kRead, limits.max_write_body, [&cp](http::Request& request, const Caller&) {
               json body;
               if (auto error = ReadBody(request, body)) return std::move(*error);
               if (!body.contains("trace")) body["trace"] = true;
               auto snapshot = cp.current();
               auto answer = directory::CheckJson(*snapshot->directory, body);
               if (!answer.ok()) return http::ErrorResponse(answer.status());
               (*answer)["revision"] = snapshot->revision;
               return http::JsonResponse(*answer);
             }));

  router.Add(Method::kPost, "/v1/evaluation",
             Authed(cp, Scope::kRead, limits.max_write_body, [&cp](http::Request& request, const Caller&) {
               json body;
               if (auto error = ReadBody(request, body)) return std::move(*error);
               auto snapshot = cp.current();
               auto items = body.find("evaluations");
               if (items != body.end() && items->is_array() && !items->empty()) {
                 auto answer = wire::EvaluateAuthzenBatch(*snapshot, body, kMaxEvaluations, {});
                 if (!answer.ok()) return http::ErrorResponse(answer.status());
                 return http::JsonResponse(*answer);
               }
               auto input = wire::ParseAuthzenEvaluation(body, json(), "");
               if (!input.ok()) return http::ErrorResponse(input.status());
               auto result = engine::Decide(*snapshot, *input);
               if (!result.ok()) return http::ErrorResponse(result.status());
               return http::JsonResponse(wire::AuthzenDecisionJson(*result, snapshot.get(), true));
             }));
}

}  // namespace warden::control_plane
