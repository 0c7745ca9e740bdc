#include "edge/authzen_api.h"

#include "common/http/json.h"

namespace warden::edge {
namespace {

using nlohmann::json;

// The member `name` of `item`, or else of `defaults`; null when neither has it.
const json& Pick(const json& item, const json& defaults, const char* name) {
  static const json kNull;
  if (item.is_object()) {
    auto it = item.find(name);
    if (it != item.end()) return *it;
  }
  if (defaults.is_object()) {
    auto it = defaults.find(name);
    if (it != defaults.end()) return *it;
  }
  return kNull;
}

Status ReadEntity(const json& value, const std::string& field, engine::Entity& out) {
  if (value.is_null()) return Status::InvalidArgument(field + ": is required");
  if (!value.is_object()) return Status::InvalidArgument(field + ": must be an object");
  auto type = value.find("type");
  if (type == value.end() || !type->is_string() || type->get_ref<const std::string&>().empty()) {
    return Status::InvalidArgument(field + ".type: must be a non-empty string");
  }
  auto id = value.find("id");
  if (id == value.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
    return Status::InvalidArgument(field + ".id: must be a non-empty string");
  }
  out.type = type->get<std::string>();
  out.id = id->get<std::string>();
  auto properties = value.find("properties");
  if (properties != value.end() && !properties->is_null()) {
    if (!properties->is_object()) return Status::InvalidArgument(field + ".properties: must be an object");
    out.properties = *properties;
  }
  return Status::Ok();
}

json DecisionContext(const engine::DecisionResult& result, const Snapshot& snapshot, bool explain) {
  json context = {{"revision", snapshot.revision}};
  if (explain) {
    json reason = {{"reason", result.reason}};
    if (result.source == engine::DecisionResult::Source::kPolicy) {
      reason["policy"] = result.policy;
      if (!result.rule.empty()) reason["rule"] = result.rule;
    } else {
      reason["relation_path"] = result.path;
    }
    context["reason_admin"] = reason;
  }
  return context;
}

// The AuthZEN error object for one item that could not be evaluated.
json ItemError(const Status& status) {
  return {{"decision", false},
          {"context", {{"error", {{"status", http::HttpStatusFor(status.code())}, {"message", status.message()}}}}}};
}

bool WantsExplanation(const json& context) {
  if (!context.is_object()) return false;
  auto warden = context.find("warden");
  if (warden == context.end() || !warden->is_object()) return false;
  auto explain = warden->find("explain");
  return explain != warden->end() && explain->is_boolean() && explain->get<bool>();
}

}  // namespace

Result<engine::DecisionInput> ParseAuthzenEvaluation(const json& item, const json& defaults, const std::string& where) {
  if (!item.is_object()) return Status::InvalidArgument(where.substr(0, where.size() - 1) + ": must be an object");
  engine::DecisionInput input;
  WARDEN_RETURN_IF_ERROR(ReadEntity(Pick(item, defaults, "subject"), where + "subject", input.subject));
  WARDEN_RETURN_IF_ERROR(ReadEntity(Pick(item, defaults, "resource"), where + "resource", input.resource));
  const json& action = Pick(item, defaults, "action");
  if (action.is_null()) return Status::InvalidArgument(where + "action: is required");
  if (!action.is_object()) return Status::InvalidArgument(where + "action: must be an object");
  auto name = action.find("name");
  if (name == action.end() || !name->is_string() || name->get_ref<const std::string&>().empty()) {
    return Status::InvalidArgument(where + "action.name: must be a non-empty string");
  }
  input.action = name->get<std::string>();
  const json& context = Pick(item, defaults, "context");
  if (!context.is_null() && !context.is_object()) return Status::InvalidArgument(where + "context: must be an object");
  input.context = context;
  input.explain = WantsExplanation(context);
  return input;
}

void AddAuthzenRoutes(http::Router& router, EdgeContext& context) {
  router.Add(http::Method::kPost, "/access/v1/evaluation", [&context](http::Request& request) {
    json body;
    if (auto error = http::ParseJsonBody(request, body)) return *error;
    if (!body.is_object()) return http::ErrorResponse(400, "invalid_argument", "request body must be a JSON object");
    const Snapshot* snapshot = context.SnapshotOrNull();
    if (snapshot == nullptr) return EdgeContext::NotReadyResponse();
    auto input = ParseAuthzenEvaluation(body, json(), "");
    if (!input.ok()) return http::ErrorResponse(input.status());
    auto result = engine::Decide(*snapshot, *input);
    if (!result.ok()) return http::ErrorResponse(result.status());
    context.CountDecision(EdgeContext::kAuthzen, result->allowed);
    http::Response response =
        http::JsonResponse({{"decision", result->allowed}, {"context", DecisionContext(*result, *snapshot, input->explain)}});
    return EdgeContext::WithRevision(response, *snapshot);
  });

  router.Add(http::Method::kPost, "/access/v1/evaluations", [&context](http::Request& request) {
    json body;
    if (auto error = http::ParseJsonBody(request, body)) return *error;
    if (!body.is_object()) return http::ErrorResponse(400, "invalid_argument", "request body must be a JSON object");
    const Snapshot* snapshot = context.SnapshotOrNull();
    if (snapshot == nullptr) return EdgeContext::NotReadyResponse();

    enum class Semantic { kExecuteAll, kDenyOnFirstDeny, kPermitOnFirstPermit } semantic = Semantic::kExecuteAll;
    auto options = body.find("options");
    if (options != body.end() && !options->is_null()) {
      if (!options->is_object()) return http::ErrorResponse(400, "invalid_argument", "options: must be an object");
      auto value = options->find("evaluations_semantic");
      if (value != options->end()) {
        std::string name = value->is_string() ? value->get<std::string>() : "";
        if (name == "execute_all") semantic = Semantic::kExecuteAll;
        else if (name == "deny_on_first_deny") semantic = Semantic::kDenyOnFirstDeny;
        else if (name == "permit_on_first_permit") semantic = Semantic::kPermitOnFirstPermit;
        else {
          return http::ErrorResponse(400, "invalid_argument",
                                     "options.evaluations_semantic: must be one of execute_all, deny_on_first_deny, "
                                     "permit_on_first_permit");
        }
      }
    }

    auto items = body.find("evaluations");
    if (items == body.end() || items->is_null() || (items->is_array() && items->empty())) {
      // No evaluations array: the request is a single evaluation (AuthZEN 1.0, 7.1).
      auto input = ParseAuthzenEvaluation(body, json(), "");
      if (!input.ok()) return http::ErrorResponse(input.status());
      auto result = engine::Decide(*snapshot, *input);
      if (!result.ok()) return http::ErrorResponse(result.status());
      context.CountDecision(EdgeContext::kAuthzen, result->allowed);
      http::Response response = http::JsonResponse(
          {{"decision", result->allowed}, {"context", DecisionContext(*result, *snapshot, input->explain)}});
      return EdgeContext::WithRevision(response, *snapshot);
    }
    if (!items->is_array()) return http::ErrorResponse(400, "invalid_argument", "evaluations: must be an array");
    if (items->size() > context.limits.max_batch_items) {
      return http::ErrorResponse(413, "batch_too_large",
                                 "evaluations: " + std::to_string(items->size()) + " items exceed the limit of " +
                                     std::to_string(context.limits.max_batch_items));
    }
    json defaults = json::object();
    for (const char* name : {"subject", "action", "resource", "context"}) {
      auto it = body.find(name);
      if (it != body.end()) defaults[name] = *it;
    }
    json results = json::array();
    for (size_t i = 0; i < items->size(); ++i) {
      std::string where = "evaluations[" + std::to_string(i) + "].";
      auto input = ParseAuthzenEvaluation((*items)[i], defaults, where);
      if (!input.ok()) {
        // A malformed item is the caller's mistake in the request itself: refuse the whole batch
        // and say which item, rather than guess.
        return http::ErrorResponse(input.status());
      }
      auto result = engine::Decide(*snapshot, *input);
      bool allowed = false;
      if (result.ok()) {
        allowed = result->allowed;
        context.CountDecision(EdgeContext::kAuthzen, allowed);
        results.push_back({{"decision", allowed}, {"context", DecisionContext(*result, *snapshot, input->explain)}});
      } else {
        results.push_back(ItemError(result.status().WithPrefix(where.substr(0, where.size() - 1))));
      }
      if ((semantic == Semantic::kDenyOnFirstDeny && !allowed) ||
          (semantic == Semantic::kPermitOnFirstPermit && allowed)) {
        break;
      }
    }
    http::Response response = http::JsonResponse({{"evaluations", results}, {"context", {{"revision", snapshot->revision}}}});
    return EdgeContext::WithRevision(response, *snapshot);
  });

  router.Add(http::Method::kGet, "/.well-known/authzen-configuration", [](http::Request& request) {
    std::string host(request.header("Host"));
    std::string base = host.empty() ? "" : "http://" + host;
    return http::JsonResponse({{"policy_decision_point", base},
                               {"access_evaluation_endpoint", base + "/access/v1/evaluation"},
                               {"access_evaluations_endpoint", base + "/access/v1/evaluations"},
                               {"search_subject_endpoint", base + "/access/v1/search/subject"},
                               {"search_resource_endpoint", base + "/access/v1/search/resource"},
                               {"search_action_endpoint", base + "/access/v1/search/action"}});
  });
}

}  // namespace warden::edge
