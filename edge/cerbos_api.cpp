#include "edge/cerbos_api.h"

#include <nlohmann/json.hpp>

#include "common/engine/enrich.h"
#include "common/http/json.h"
#include "common/policy/cerbos_api.h"

namespace warden::edge {
namespace {

using nlohmann::json;

// `oracle` answers check(...) within the edge's graph limits; it must outlive the options' use.
policy::DecideOptions OptionsFor(const EdgeLimits& limits, const directory::BoundedRelationOracle& oracle) {
  policy::DecideOptions options;
  options.oracle = &oracle;
  options.now = policy::CurrentTime();
  options.max_eval_cost = limits.decision.max_eval_cost;
  return options;
}

// Cerbos answers errors as {"code": <gRPC code>, "message": ...}; Warden adds its own error
// object beside it so both kinds of client read something they understand.
http::Response CerbosError(const Status& status) {
  http::Response response = http::ErrorResponse(status);
  json body = json::parse(response.body);
  body["code"] = status.code() == StatusCode::kInvalidArgument ? 3 : 13;
  body["message"] = status.message();
  response.body = body.dump();
  return response;
}

}  // namespace

void AddCerbosRoutes(http::Router& router, EdgeContext& context) {
  router.Add(http::Method::kPost, "/api/check/resources", [&context](http::Request& request) {
    json body;
    if (auto error = http::ParseJsonBody(request, body)) return *error;
    if (!body.is_object()) return CerbosError(Status::InvalidArgument("request body must be a JSON object"));
    std::optional<http::Response> not_at_revision;
    const Snapshot* snapshot = context.SnapshotFor(request, 0, not_at_revision);
    if (snapshot == nullptr) return std::move(*not_at_revision);
    auto resources = body.find("resources");
    if (resources != body.end() && resources->is_array() && resources->size() > context.limits.max_batch_items) {
      return http::ErrorResponse(413, "batch_too_large",
                                 "resources: " + std::to_string(resources->size()) + " entries exceed the limit of " +
                                     std::to_string(context.limits.max_batch_items));
    }
    if (auto principal = body.find("principal"); principal != body.end()) {
      engine::EnrichCerbosPrincipal(*snapshot, *principal);
    }
    if (resources != body.end() && resources->is_array()) {
      for (auto& entry : *resources) {
        if (entry.is_object() && entry.contains("resource")) engine::EnrichCerbosResource(*snapshot, entry["resource"]);
      }
    }
    auto parsed = policy::ParseCheckResourcesRequest(body);
    if (!parsed.ok()) return CerbosError(parsed.status());
    directory::BoundedRelationOracle oracle(*snapshot->directory, context.limits.decision.graph);
    policy::DecideOptions options = OptionsFor(context.limits, oracle);
    options.aux_data = parsed->aux_data;
    auto started = std::chrono::steady_clock::now();
    json answer = policy::CheckResources(*snapshot->policies, *parsed, options);
    uint32_t latency_us = static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
    for (const auto& result : answer["results"]) {
      for (const auto& [action, effect] : result["actions"].items()) {
        bool allowed = effect == "EFFECT_ALLOW";
        context.CountDecision(EdgeContext::kCerbos, allowed);
        if (!context.WantsLog(DecisionApi::kCerbos, allowed)) continue;
        DecisionEntry entry;
        entry.time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
        entry.revision = snapshot->revision;
        entry.api = DecisionApi::kCerbos;
        entry.request_id = body.value("requestId", std::string());
        entry.subject_type = "principal";
        if (body.contains("principal") && body["principal"].is_object()) {
          entry.subject_id = body["principal"].value("id", std::string());
        }
        entry.action = action;
        if (result.contains("resource") && result["resource"].is_object()) {
          entry.resource_type = result["resource"].value("kind", std::string());
          entry.resource_id = result["resource"].value("id", std::string());
        }
        entry.allowed = allowed;
        if (result.contains("meta") && result["meta"].contains("actions") && result["meta"]["actions"].contains(action)) {
          entry.policy = result["meta"]["actions"][action].value("matchedPolicy", std::string());
        }
        entry.latency_us = latency_us;
        context.decision_log->Record(std::move(entry));
      }
    }
    http::Response response = http::JsonResponse(answer);
    return EdgeContext::WithRevision(response, *snapshot);
  });

  router.Add(http::Method::kPost, "/api/plan/resources", [&context](http::Request& request) {
    json body;
    if (auto error = http::ParseJsonBody(request, body)) return *error;
    if (!body.is_object()) return CerbosError(Status::InvalidArgument("request body must be a JSON object"));
    std::optional<http::Response> not_at_revision;
    const Snapshot* snapshot = context.SnapshotFor(request, 0, not_at_revision);
    if (snapshot == nullptr) return std::move(*not_at_revision);
    if (auto principal = body.find("principal"); principal != body.end()) {
      engine::EnrichCerbosPrincipal(*snapshot, *principal);
    }
    auto parsed = policy::ParsePlanResourcesRequest(body);
    if (!parsed.ok()) return CerbosError(parsed.status());
    directory::BoundedRelationOracle oracle(*snapshot->directory, context.limits.decision.graph);
    policy::DecideOptions options = OptionsFor(context.limits, oracle);
    options.aux_data = parsed->aux_data;
    http::Response response = http::JsonResponse(policy::PlanResources(*snapshot->policies, *parsed, options));
    return EdgeContext::WithRevision(response, *snapshot);
  });
}

}  // namespace warden::edge
