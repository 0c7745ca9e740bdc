#include "edge/authzen_api.h"

#include <functional>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/http/json.h"
#include "common/wire/authzen.h"

namespace warden::edge {
namespace {

using nlohmann::json;
using wire::ParseAuthzenEvaluation;

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
    input->explain = wire::WantsAuthzenExplanation(input->context);
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
    return FinishAuthzen(http::JsonResponse(wire::AuthzenDecisionJson(*result, &snapshot, true)), request, &snapshot);
  }
  http::Response response;
  response.body = wire::PlainAuthzenDecisionBody(result->allowed, snapshot.revision);
  return FinishAuthzen(std::move(response), request, &snapshot);
}

}  // namespace

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
      if (auto semantic = wire::ReadAuthzenSemantic(body); !semantic.ok()) return fail(semantic.status());
      return EvaluateOne(context, request, *snapshot, body);
    }
    auto started = std::chrono::steady_clock::now();
    auto answer = wire::EvaluateAuthzenBatch(
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
