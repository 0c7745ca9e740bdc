#include "common/engine/decision.h"

#include <algorithm>

#include "common/cel/value.h"
#include "common/directory/checker.h"
#include "common/engine/enrich.h"

namespace warden::engine {
namespace {

bool IsUserType(const std::string& type) { return type == "user" || type == "identity"; }

Status RequireField(const std::string& value, const char* field) {
  if (value.empty()) return Status::InvalidArgument(std::string(field) + ": must be a non-empty string");
  return Status::Ok();
}

}  // namespace

std::optional<std::string> ResolveSubjectId(const Snapshot& snapshot, const std::string& type, const std::string& id) {
  if (!IsUserType(type)) return id;
  return snapshot.directory->ResolveUser(id);
}

Result<DecisionResult> Decide(const Snapshot& snapshot, const DecisionInput& input, const DecisionLimits& limits) {
  WARDEN_RETURN_IF_ERROR(RequireField(input.subject.type, "subject.type"));
  WARDEN_RETURN_IF_ERROR(RequireField(input.subject.id, "subject.id"));
  WARDEN_RETURN_IF_ERROR(RequireField(input.action, "action.name"));
  WARDEN_RETURN_IF_ERROR(RequireField(input.resource.type, "resource.type"));
  WARDEN_RETURN_IF_ERROR(RequireField(input.resource.id, "resource.id"));
  const auto& directory = *snapshot.directory;

  DecisionResult result;
  std::string subject_type = IsUserType(input.subject.type) ? "user" : input.subject.type;
  auto subject_id = ResolveSubjectId(snapshot, input.subject.type, input.subject.id);
  if (!subject_id) {
    if (!input.subject.properties.is_object()) {
      return Status::NotFound("subject.id: no user or identity '" + input.subject.id + "' in the directory");
    }
    subject_id = input.subject.id;  // a principal known only by what the request says of it
  }
  result.subject_id = *subject_id;

  std::string resource_id = input.resource.id;
  if (input.resource.type == "user") {
    if (auto resolved = directory.ResolveUser(resource_id)) resource_id = *resolved;
  }

  if (snapshot.policies->CoversResourceKind(input.resource.type)) {
    const nlohmann::json* stored_subject = FindStoredProperties(snapshot, subject_type, *subject_id);
    policy::Principal principal;
    principal.id = *subject_id;
    AddRoles(input.subject.properties, principal.roles);
    if (stored_subject != nullptr) AddRoles(*stored_subject, principal.roles);
    principal.attr = PropertiesValue(stored_subject, input.subject.properties);
    policy::Resource resource;
    resource.kind = input.resource.type;
    resource.id = resource_id;
    resource.attr =
        PropertiesValue(FindStoredProperties(snapshot, input.resource.type, resource_id), input.resource.properties);
    directory::BoundedRelationOracle oracle(directory, limits.graph);
    policy::DecideOptions options;
    options.oracle = &oracle;
    options.max_eval_cost = limits.max_eval_cost;
    options.now = policy::CurrentTime();
    if (!input.context.is_null() || !input.action_properties.is_null()) {
      nlohmann::json aux = nlohmann::json::object();
      if (!input.context.is_null()) aux["context"] = input.context;
      if (!input.action_properties.is_null()) {
        aux["action"] = {{"name", input.action}, {"properties", input.action_properties}};
      }
      options.aux_data = cel::FromJson(aux);
    }
    const std::string actions[] = {input.action};
    policy::Decision decision = snapshot.policies->Decide(principal, resource, actions, options);
    const policy::ActionDecision& action = decision.actions.front();
    result.allowed = action.effect == policy::Effect::kAllow;
    result.source = DecisionResult::Source::kPolicy;
    result.policy = policy::MatchedPolicy(action, principal, resource);
    result.rule = std::string(policy::RuleName(action));
    if (action.rule != nullptr) {
      result.reason = std::string(result.allowed ? "allowed" : "denied") + " by rule '" + result.rule + "' of " +
                      result.policy;
    } else if (action.matched == policy::Matched::kNone) {
      result.reason = "denied: no policy matched (default deny)";
    } else {
      result.reason = "denied: no rule of " + result.policy + " allows it (default deny)";
    }
    return result;
  }

  auto type_symbol = directory.model().FindSymbol(input.resource.type);
  if (!type_symbol || directory.model().Type(*type_symbol) == nullptr) {
    return Status::InvalidArgument("resource.type: no policy covers '" + input.resource.type +
                                   "' and the manifest defines no such type");
  }
  directory::CheckRequest check;
  check.object_type = input.resource.type;
  check.object_id = resource_id;
  check.relation = input.action;
  check.subject_type = subject_type;
  check.subject_id = *subject_id;
  check.trace = input.explain;
  result.source = DecisionResult::Source::kDirectory;
  auto checked = directory::Check(directory, check, limits.graph);
  if (!checked.ok()) {
    if (checked.status().code() != StatusCode::kInvalidArgument) return checked.status();
    // An action the type has no permission or relation for is a deny, not a malformed request.
    result.allowed = false;
    result.reason = "denied: " + checked.status().message();
    return result;
  }
  result.allowed = checked->allowed;
  result.path = std::move(checked->trace);
  result.reason = std::string(result.allowed ? "allowed" : "denied") + " by the manifest: " + input.resource.type +
                  "#" + input.action + (result.allowed ? " holds for " : " does not hold for ") + subject_type + ":" +
                  *subject_id;
  return result;
}

}  // namespace warden::engine
