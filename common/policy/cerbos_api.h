// JSON codecs for Cerbos's HTTP API bodies (POST /api/check/resources, POST /api/plan/resources),
// so that existing Cerbos clients work against Warden unchanged.
//
// Parsers validate the whole body and return InvalidArgument naming the offending field
// ("resources[1].actions: must be a non-empty list of strings"). Like Cerbos's own gateway
// (protobuf JSON with unknown fields refused), they take each field by its JSON name or its proto
// name (policyVersion or policy_version) and refuse any other key outside `attr`
// ("principal.attrs: unknown field (did you mean 'attr'?)"). Renderers produce Cerbos's shapes.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/policy/policy_set.h"
#include "common/policy/request.h"
#include "common/util/status.h"

namespace warden::policy {

struct CheckResourcesRequest {
  std::string request_id;
  Principal principal;
  struct Entry {
    Resource resource;
    std::vector<std::string> actions;
  };
  std::vector<Entry> resources;
  bool include_meta = false;
  cel::Value aux_data;  // auxData as given (a map), or null
};

// Parses a CheckResources request body.
Result<CheckResourcesRequest> ParseCheckResourcesRequest(const nlohmann::json& body);

// Removes repeated actions, each keeping its first place: Cerbos decides an action once.
void RemoveRepeatedActions(std::vector<std::string>& actions);

// Renders the response for `request` given one Decision per entry of request.resources:
// {"requestId", "results": [{"resource": {"id","kind","policyVersion","scope"},
//   "actions": {name: "EFFECT_ALLOW"|"EFFECT_DENY"}, "meta"?: {...}, "outputs"?: [...]}]}.
// REQUIRES: decisions.size() == request.resources.size().
nlohmann::json RenderCheckResourcesResponse(const CheckResourcesRequest& request,
                                            const std::vector<Decision>& decisions);

// Decides every entry of `request` with `set`: one Decision per entry of request.resources, whose
// action views point into `request`.
std::vector<Decision> DecideCheckResources(const PolicySet& set, const CheckResourcesRequest& request,
                                           const DecideOptions& options = {});

// Appends to `out` the text RenderCheckResourcesResponse(request, decisions).dump() gives, written
// directly: the edge answers every CheckResources call this way, without building a JSON tree.
// REQUIRES: decisions.size() == request.resources.size().
void AppendCheckResourcesResponse(std::string& out, const CheckResourcesRequest& request,
                                  const std::vector<Decision>& decisions);

// Decides every entry of `request` with `set` and renders the response.
nlohmann::json CheckResources(const PolicySet& set, const CheckResourcesRequest& request,
                              const DecideOptions& options = {});

struct PlanResourcesRequest {
  std::string request_id;
  std::vector<std::string> actions;  // `action`, or `actions` (Cerbos ≥ 0.44)
  bool action_was_list = false;
  Principal principal;
  Resource resource;  // kind, policyVersion, scope, attr
  bool include_meta = false;
  cel::Value aux_data;
};

// Parses a PlanResources request body.
Result<PlanResourcesRequest> ParsePlanResourcesRequest(const nlohmann::json& body);

// Plans every action of `request` (the filters of several actions are AND-ed, as Cerbos does)
// and renders {"requestId", "action"|"actions", "resourceKind", "policyVersion", "filter", "meta"?}.
nlohmann::json PlanResources(const PolicySet& set, const PlanResourcesRequest& request,
                             const DecideOptions& options = {});

// "EFFECT_ALLOW" / "EFFECT_DENY"
const char* EffectName(Effect effect);

}  // namespace warden::policy
