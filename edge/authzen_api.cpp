#include "edge/authzen_api.h"

#include <functional>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/http/json.h"

namespace warden::edge {
namespace {

using nlohmann::json;

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

bool WantsExplanation(const json& context) {
  if (!context.is_object()) return false;
  auto warden = context.find("warden");
  if (warden == context.end() || !warden->is_object()) return false;
  auto explain = warden->find("explain");
  return explain != warden->end() && explain->is_boolean() && explain->get<bool>();
}

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

// `snapshot` null: a batch item, whose revision the batch's own context gives.
json DecisionJson(const engine::DecisionResult& result, const Snapshot* snapshot, bool explain) {
  json decision = {{"decision", result.allowed}};
  json context = DecisionContext(result, snapshot, explain);
  if (!context.empty()) decision["context"] = std::move(context);
  return decision;
}

enum class Semantic { kExecuteAll, kDenyOnFirstDeny, kPermitOnFirstPermit };

Result<Semantic> ReadSemantic(const json& body) {
  auto options = body.find("options");
  if (options == body.end() || options->is_null()) return Semantic::kExecuteAll;
  if (!options->is_object()) return Status::InvalidArgument("options: must be an object");
  auto value = options->find("evaluations_semantic");
  if (value == options->end() || value->is_null()) return Semantic::kExecuteAll;
  std::string name = value->is_string() ? value->get<std::string>() : value->dump();
  if (name == "execute_all") return Semantic::kExecuteAll;
  if (name == "deny_on_first_deny") return Semantic::kDenyOnFirstDeny;
  if (name == "permit_on_first_permit") return Semantic::kPermitOnFirstPermit;
  return Status::InvalidArgument("options.evaluations_semantic: '" + name +
                                 "' is not one of execute_all, deny_on_first_deny, permit_on_first_permit");
}

// The revision an AuthZEN body asks for in context.warden.min_revision (0 when none).
Result<uint64_t> BodyMinRevision(const json& body) {
  auto context = body.find("context");
  if (context == body.end() || !context->is_object()) return uint64_t{0};
  auto warden = context->find("warden");
  if (warden == context->end() || !warden->is_object()) return uint64_t{0};
  auto value = warden->find("min_revision");
  if (value == warden->end() || value->is_null()) return uint64_t{0};
  if (!value->is_number_unsigned()) {
    return Status::InvalidArgument("context.warden.min_revision: must be a non-negative integer");
  }
  return value->get<uint64_t>();
}

// ParseAuthzenEvaluation(body, {}, "") for a body the caller gives up: the properties and the
// context, the large parts, move into the input instead of being copied. Each is set aside and
// an empty object left in its place, so validation sees the same shapes and words the same errors.
Result<engine::DecisionInput> TakeAuthzenEvaluation(json& body) {
  auto set_aside = [](json* object, const char* member, json& held) {
    if (object == nullptr || !object->is_object()) return;
    auto it = object->find(member);
    if (it != object->end() && it->is_object() && !it->empty()) {
      held = std::move(*it);
      *it = json::object();
    }
  };
  auto member = [&body](const char* name) -> json* {
    if (!body.is_object()) return nullptr;
    auto it = body.find(name);
    return it == body.end() ? nullptr : &*it;
  };
  json subject_properties, action_properties, resource_properties, context;
  set_aside(member("subject"), "properties", subject_properties);
  set_aside(member("action"), "properties", action_properties);
  set_aside(member("resource"), "properties", resource_properties);
  set_aside(&body, "context", context);
  auto input = ParseAuthzenEvaluation(body, json(), "");
  if (!input.ok()) return input;
  if (!subject_properties.is_null()) input->subject.properties = std::move(subject_properties);
  if (!action_properties.is_null()) input->action_properties = std::move(action_properties);
  if (!resource_properties.is_null()) input->resource.properties = std::move(resource_properties);
  if (!context.is_null()) {
    input->context = std::move(context);
    input->explain = WantsExplanation(input->context);
  }
  return input;
}

http::Response EvaluateOne(EdgeContext& context, const http::Request& request, const Snapshot& snapshot,
                           json& body) {
  auto started = std::chrono::steady_clock::now();
  auto input = TakeAuthzenEvaluation(body);
  if (!input.ok()) return FinishAuthzen(http::ErrorResponse(input.status()), request, &snapshot);
  auto result = engine::Decide(snapshot, *input, context.limits.decision);
  if (!result.ok()) return FinishAuthzen(http::ErrorResponse(result.status()), request, &snapshot);
  context.CountDecision(EdgeContext::kAuthzen, result->allowed);
  context.LogDecision(DecisionApi::kAuthzen, &request, snapshot, *input, *result, started);
  if (input->explain) {
    return FinishAuthzen(http::JsonResponse(DecisionJson(*result, &snapshot, true)), request, &snapshot);
  }
  http::Response response;
  response.body = PlainAuthzenDecisionBody(result->allowed, snapshot.revision);
  return FinishAuthzen(std::move(response), request, &snapshot);
}

}  // namespace

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
  input.explain = WantsExplanation(context);
  return input;
}

std::optional<http::Response> ReadAuthzenBody(const http::Request& request, json& out) {
  // AuthZEN requires application/json; its certification profile wants 400 (not 415) otherwise.
  std::string_view content_type = request.header("Content-Type");
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  std::string lower(media);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower != "application/json") {
    return http::ErrorResponse(400, "invalid_content_type",
                               content_type.empty()
                                   ? std::string("Content-Type: required; AuthZEN requests must be application/json")
                                   : "Content-Type: must be application/json, got '" + std::string(media) + "'");
  }
  if (auto error = http::ParseJsonBody(request, out)) return error;
  if (!out.is_object()) return http::ErrorResponse(400, "invalid_argument", "request body: must be a JSON object");
  return std::nullopt;
}

const Snapshot* AuthzenSnapshot(EdgeContext& context, const http::Request& request, const json& body,
                                std::optional<http::Response>& error) {
  auto wanted = BodyMinRevision(body);
  if (!wanted.ok()) {
    error = http::ErrorResponse(wanted.status());
    return nullptr;
  }
  return context.SnapshotFor(request, *wanted, error);
}

http::Response FinishAuthzen(http::Response response, const http::Request& request, const Snapshot* snapshot) {
  std::string_view request_id = request.header("X-Request-ID");
  if (!request_id.empty()) response.with_header("X-Request-ID", std::string(request_id));
  if (snapshot != nullptr) EdgeContext::WithRevision(response, *snapshot);
  return response;
}

json AuthzenDecisionJson(const engine::DecisionResult& result, const Snapshot& snapshot, bool explain) {
  return DecisionJson(result, &snapshot, explain);
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
  auto semantic = ReadSemantic(body);
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
      results.push_back(DecisionJson(*result, nullptr, input->explain));
    }
    if ((*semantic == Semantic::kDenyOnFirstDeny && !allowed) ||
        (*semantic == Semantic::kPermitOnFirstPermit && allowed)) {
      break;
    }
  }
  return json{{"evaluations", results}, {"context", {{"revision", snapshot.revision}}}};
}

void AddAuthzenRoutes(http::Router& router, EdgeContext& context) {
  router.Add(http::Method::kPost, "/access/v1/evaluation", [&context](http::Request& request) {
    json body;
    if (auto error = ReadAuthzenBody(request, body)) return FinishAuthzen(std::move(*error), request, nullptr);
    std::optional<http::Response> error;
    const Snapshot* snapshot = AuthzenSnapshot(context, request, body, error);
    if (snapshot == nullptr) return FinishAuthzen(std::move(*error), request, nullptr);
    return EvaluateOne(context, request, *snapshot, body);
  });

  router.Add(http::Method::kPost, "/access/v1/evaluations", [&context](http::Request& request) {
    json body;
    if (auto error = ReadAuthzenBody(request, body)) return FinishAuthzen(std::move(*error), request, nullptr);
    std::optional<http::Response> error;
    const Snapshot* snapshot = AuthzenSnapshot(context, request, body, error);
    if (snapshot == nullptr) return FinishAuthzen(std::move(*error), request, nullptr);
    auto fail = [&](const Status& status) { return FinishAuthzen(http::ErrorResponse(status), request, snapshot); };

    auto items = body.find("evaluations");
    if (items == body.end() || items->is_null() || (items->is_array() && items->empty())) {
      // No evaluations: the request is a single evaluation and gets a single decision (1.0, 7.1).
      if (auto semantic = ReadSemantic(body); !semantic.ok()) return fail(semantic.status());
      return EvaluateOne(context, request, *snapshot, body);
    }
    auto started = std::chrono::steady_clock::now();
    auto answer = EvaluateAuthzenBatch(
        *snapshot, body, context.limits.max_batch_items, context.limits.decision,
        [&](const engine::DecisionInput& input, const engine::DecisionResult& result) {
          context.CountDecision(EdgeContext::kAuthzen, result.allowed);
          context.LogDecision(DecisionApi::kAuthzen, &request, *snapshot, input, result, started);
          started = std::chrono::steady_clock::now();
        });
    if (!answer.ok()) {
      if (answer.status().code() == StatusCode::kResourceExhausted) {
        return FinishAuthzen(http::ErrorResponse(413, "batch_too_large", answer.status().message()), request, snapshot);
      }
      return fail(answer.status());
    }
    return FinishAuthzen(http::JsonResponse(*answer), request, snapshot);
  });

  router.Add(http::Method::kGet, "/.well-known/authzen-configuration", [](http::Request& request) {
    // The identifier must equal the base URL the PEP used, so it is built from the Host it sent;
    // a TLS-terminating proxy in front says the scheme with X-Forwarded-Proto.
    std::string host(request.header("Host"));
    std::string scheme(request.header("X-Forwarded-Proto"));
    if (scheme != "https") scheme = "http";
    std::string base = host.empty() ? "" : scheme + "://" + host;
    return FinishAuthzen(http::JsonResponse({{"policy_decision_point", base},
                                             {"access_evaluation_endpoint", base + "/access/v1/evaluation"},
                                             {"access_evaluations_endpoint", base + "/access/v1/evaluations"},
                                             {"search_subject_endpoint", base + "/access/v1/search/subject"},
                                             {"search_resource_endpoint", base + "/access/v1/search/resource"},
                                             {"search_action_endpoint", base + "/access/v1/search/action"}}),
                         request, nullptr);
  });
}

}  // namespace warden::edge
