#include "edge/cerbos_api.h"

#include <nlohmann/json.hpp>

#include "common/engine/enrich.h"
#include "common/http/json.h"
#include "common/policy/cerbos_api.h"
#include "common/policy/cerbos_request_scan.h"

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
    // The commonest bodies are read straight into the request (cerbos_request_scan.h); the rest,
    // and every error, take the JSON document path below.
    policy::CheckResourcesRequest parsed;
    bool scanned = http::HasJsonMediaType(request) &&
                   policy::ScanCheckResourcesRequest(request.body(), request.max_json_depth(), parsed);
    json body;
    if (!scanned) {
      if (auto error = http::ParseJsonBody(request, body)) return *error;
      if (!body.is_object()) return CerbosError(Status::InvalidArgument("request body must be a JSON object"));
    }
    std::optional<http::Response> not_at_revision;
    const Snapshot* snapshot = context.SnapshotFor(request, 0, not_at_revision);
    if (snapshot == nullptr) return std::move(*not_at_revision);
    auto too_many = [&](size_t resources) {
      return http::ErrorResponse(413, "batch_too_large",
                                 "resources: " + std::to_string(resources) + " entries exceed the limit of " +
                                     std::to_string(context.limits.max_batch_items));
    };
    if (scanned) {
      if (parsed.resources.size() > context.limits.max_batch_items) return too_many(parsed.resources.size());
      if (!engine::EnrichScannedCerbosRequest(*snapshot, parsed)) {
        // Stored properties to merge: that is done on the JSON.
        scanned = false;
        if (auto error = http::ParseJsonBody(request, body)) return *error;
      }
    }
    if (!scanned) {
      auto resources = body.find("resources");
      if (resources != body.end() && resources->is_array() && resources->size() > context.limits.max_batch_items) {
        return too_many(resources->size());
      }
      if (auto principal = body.find("principal"); principal != body.end()) {
        engine::EnrichCerbosPrincipal(*snapshot, *principal);
      }
      if (resources != body.end() && resources->is_array()) {
        for (auto& entry : *resources) {
          if (entry.is_object() && entry.contains("resource")) engine::EnrichCerbosResource(*snapshot, entry["resource"]);
        }
      }
      auto from_json = policy::ParseCheckResourcesRequest(body);
      if (!from_json.ok()) return CerbosError(from_json.status());
      parsed = std::move(*from_json);
    }
    directory::BoundedRelationOracle oracle(*snapshot->directory, context.limits.decision.graph);
    policy::DecideOptions options = OptionsFor(context.limits, oracle);
    options.aux_data = parsed.aux_data;
    auto started = std::chrono::steady_clock::now();
    std::vector<policy::Decision> decisions = policy::DecideCheckResources(*snapshot->policies, parsed, options);
    uint32_t latency_us = static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
    int64_t time_ns = 0;
    for (size_t i = 0; i < decisions.size(); ++i) {
      const policy::Resource& resource = parsed.resources[i].resource;
      for (const policy::ActionDecision& action : decisions[i].actions) {
        bool allowed = action.effect == policy::Effect::kAllow;
        context.CountDecision(EdgeContext::kCerbos, allowed);
        if (!context.WantsLog(DecisionApi::kCerbos, allowed)) continue;
        if (time_ns == 0) {
          time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
        }
        // As the log's schema says: a policy only when one decided (not Cerbos's "NO_MATCH").
        std::string matched_policy = action.matched == policy::Matched::kNone
                                         ? std::string()
                                         : policy::MatchedPolicy(action, parsed.principal, resource);
        DecisionEntryView entry;
        entry.time_ns = time_ns;
        entry.revision = snapshot->revision;
        entry.api = DecisionApi::kCerbos;
        entry.request_id = parsed.request_id;
        entry.subject_type = "principal";
        entry.subject_id = parsed.principal.id;
        entry.action = action.action;
        entry.resource_type = resource.kind;
        entry.resource_id = resource.id;
        entry.allowed = allowed;
        entry.policy = matched_policy;
        entry.rule = policy::RuleName(action);
        entry.latency_us = latency_us;
        context.decision_log->Record(entry);
      }
    }
    http::Response response;
    response.body.reserve(128 + 160 * decisions.size());
    policy::AppendCheckResourcesResponse(response.body, parsed, decisions);
    EdgeContext::WithRevision(response, *snapshot);
    return response;
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
