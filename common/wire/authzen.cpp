#include "common/wire/authzen.h"

#include "common/http/json.h"

namespace warden::wire {

using nlohmann::json;

namespace {

// The member `name` of `item`, or else of `defaults`; null when neither has it. Defaults apply
// to whole entities: an item's own `resource` replaces the default one entirely.
const json& Pick(const json& item, const json& defaults, const char* name) {
  static const json kNull;
  if (item.is_object()) {
    auto it = item.find(name);
    if (it != item.end() && !it->is_null()) return *it;
  }
  if (defaults.is_object()) {
    auto it = defaults.find(name);
    if (it != defaults.end()) return *it;
  }
  return kNull;
}

Status RequireString(const json& object, const char* key, const std::string& field) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return Status::InvalidArgument(field + "." + key + ": is required");
  if (!it->is_string()) return Status::InvalidArgument(field + "." + key + ": must be a string");
  if (it->get_ref<const std::string&>().empty()) {
    return Status::InvalidArgument(field + "." + key + ": must not be empty");
  }
  return Status::Ok();
}

Status OptionalObject(const json& object, const char* key, const std::string& field) {
  auto it = object.find(key);
  if (it != object.end() && !it->is_null() && !it->is_object()) {
    return Status::InvalidArgument(field + "." + key + ": must be an object");
  }
  return Status::Ok();
}

}  // namespace

bool WantsAuthzenExplanation(const json& context) {
  if (!context.is_object()) return false;
  auto warden = context.find("warden");
  if (warden == context.end() || !warden->is_object()) return false;
  auto explain = warden->find("explain");
  return explain != warden->end() && explain->is_boolean() && explain->get<bool>();
}

namespace {

// The decision's `context`: the revision (a batch says it once, at the top), and with explain,
// why (reason_admin, the name the spec's own examples use for reasons meant for administrators).
json DecisionContext(const engine::DecisionResult& result, const Snapshot* snapshot, bool explain) {
  json context = json::object();
  if (snapshot != nullptr) context["revision"] = snapshot->revision;
  if (explain) {
    json reason = {{"reason", result.reason}, {"subject_id", result.subject_id}};
    if (result.source == engine::DecisionResult::Source::kPolicy) {
      reason["source"] = "policy";
      reason["policy"] = result.policy;
      if (!result.rule.empty()) reason["rule"] = result.rule;
    } else {
      reason["source"] = "manifest";
      reason["relation_path"] = result.path;
    }
    context["reason_admin"] = reason;
  }
  return context;
}

// One evaluation that could not be made: closed (false), with the error in its context as the
// spec's Access Evaluations "Errors" section shows it.
json ItemError(const Status& status) {
  return {{"decision", false},
          {"context", {{"error", {{"status", http::HttpStatusFor(status.code())}, {"message", status.message()}}}}}};
}

}  // namespace

json AuthzenDecisionJson(const engine::DecisionResult& result, const Snapshot* snapshot, bool explain) {
  json decision = {{"decision", result.allowed}};
  json context = DecisionContext(result, snapshot, explain);
  if (!context.empty()) decision["context"] = std::move(context);
  return decision;
}

Result<AuthzenSemantic> ReadAuthzenSemantic(const json& body) {
  auto options = body.find("options");
  if (options == body.end() || options->is_null()) return AuthzenSemantic::kExecuteAll;
  if (!options->is_object()) return Status::InvalidArgument("options: must be an object");
  auto value = options->find("evaluations_semantic");
  if (value == options->end() || value->is_null()) return AuthzenSemantic::kExecuteAll;
  std::string name = value->is_string() ? value->get<std::string>() : value->dump();
  if (name == "execute_all") return AuthzenSemantic::kExecuteAll;
  if (name == "deny_on_first_deny") return AuthzenSemantic::kDenyOnFirstDeny;
  if (name == "permit_on_first_permit") return AuthzenSemantic::kPermitOnFirstPermit;
  return Status::InvalidArgument("options.evaluations_semantic: '" + name +
                                 "' is not one of execute_all, deny_on_first_deny, permit_on_first_permit");
}

Status ReadAuthzenEntity(const json& value, const std::string& field, bool id_required, engine::Entity& out) {
  if (value.is_null()) return Status::InvalidArgument(field + ": is required");
  if (!value.is_object()) return Status::InvalidArgument(field + ": must be an object");
  WARDEN_RETURN_IF_ERROR(RequireString(value, "type", field));
  if (id_required) WARDEN_RETURN_IF_ERROR(RequireString(value, "id", field));
  WARDEN_RETURN_IF_ERROR(OptionalObject(value, "properties", field));
  out.type = value["type"].get<std::string>();
  out.id = id_required ? value["id"].get<std::string>() : "";
  auto properties = value.find("properties");
  out.properties = properties != value.end() ? *properties : json();
  return Status::Ok();
}

Status ReadAuthzenAction(const json& value, const std::string& field, std::string& name, json& properties) {
  if (value.is_null()) return Status::InvalidArgument(field + ": is required");
  if (!value.is_object()) return Status::InvalidArgument(field + ": must be an object");
  WARDEN_RETURN_IF_ERROR(RequireString(value, "name", field));
  WARDEN_RETURN_IF_ERROR(OptionalObject(value, "properties", field));
  name = value["name"].get<std::string>();
  auto given = value.find("properties");
  if (given != value.end() && given->is_object()) properties = *given;
  return Status::Ok();
}

Result<engine::DecisionInput> ParseAuthzenEvaluation(const json& item, const json& defaults, const std::string& where) {
  if (!item.is_object()) return Status::InvalidArgument(where.substr(0, where.size() - 1) + ": must be an object");
  engine::DecisionInput input;
  WARDEN_RETURN_IF_ERROR(ReadAuthzenEntity(Pick(item, defaults, "subject"), where + "subject", true, input.subject));
  WARDEN_RETURN_IF_ERROR(
      ReadAuthzenAction(Pick(item, defaults, "action"), where + "action", input.action, input.action_properties));
  WARDEN_RETURN_IF_ERROR(ReadAuthzenEntity(Pick(item, defaults, "resource"), where + "resource", true, input.resource));
  const json& context = Pick(item, defaults, "context");
  if (!context.is_null() && !context.is_object()) return Status::InvalidArgument(where + "context: must be an object");
  input.context = context;
  input.explain = WantsAuthzenExplanation(context);
  return input;
}

std::string PlainAuthzenDecisionBody(bool allowed, uint64_t revision) {
  // nlohmann writes object keys in sorted order: "context" before "decision".
  std::string body = R"({"context":{"revision":)";
  body += std::to_string(revision);
  body += allowed ? R"(},"decision":true})" : R"(},"decision":false})";
  return body;
}

Result<json> EvaluateAuthzenBatch(const Snapshot& snapshot, const json& body, size_t max_items,
                                  const engine::DecisionLimits& limits,
                                  const std::function<void(const engine::DecisionInput&,
                                                           const engine::DecisionResult&)>& decided) {
  auto semantic = ReadAuthzenSemantic(body);
  if (!semantic.ok()) return semantic.status();
  auto items = body.find("evaluations");
  if (items == body.end() || !items->is_array()) return Status::InvalidArgument("evaluations: must be an array");
  if (items->size() > max_items) {
    return Status::ResourceExhausted("evaluations: " + std::to_string(items->size()) + " items exceed the limit of " +
                                     std::to_string(max_items));
  }
  // A default of the wrong shape is wrong for the whole payload, even where items override it.
  json defaults = json::object();
  for (const char* name : {"subject", "action", "resource", "context"}) {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) continue;
    if (!it->is_object()) return Status::InvalidArgument(std::string(name) + ": must be an object");
    defaults[name] = *it;
  }
  json results = json::array();
  for (size_t i = 0; i < items->size(); ++i) {
    std::string where = "evaluations[" + std::to_string(i) + "].";
    bool allowed = false;
    // Problems with one item are that item's answer (closed, with the error in its context),
    // as the spec's per-evaluation errors and its certification profile ask.
    auto input = ParseAuthzenEvaluation((*items)[i], defaults, where);
    if (!input.ok()) {
      results.push_back(ItemError(input.status()));
    } else if (auto result = engine::Decide(snapshot, *input, limits); !result.ok()) {
      results.push_back(ItemError(result.status().WithPrefix(where.substr(0, where.size() - 1))));
    } else {
      allowed = result->allowed;
      if (decided) decided(*input, *result);
      results.push_back(AuthzenDecisionJson(*result, nullptr, input->explain));
    }
    if ((*semantic == AuthzenSemantic::kDenyOnFirstDeny && !allowed) ||
        (*semantic == AuthzenSemantic::kPermitOnFirstPermit && allowed)) {
      break;
    }
  }
  return json{{"evaluations", results}, {"context", {{"revision", snapshot.revision}}}};
}

}  // namespace warden::wire
