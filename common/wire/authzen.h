// The OpenID AuthZEN Authorization API 1.0 as data: reading its requests into the engine's typed
// input and writing decisions in its shapes. No HTTP here: the edge's handlers
// (edge/authzen_api.h), `wardenctl eval` and the control plane's evaluate endpoint all answer
// through these, so one body gets one answer wherever it is sent.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/engine/decision.h"
#include "common/snapshot/snapshot.h"
#include "common/util/status.h"

namespace warden::wire {

// Reads an AuthZEN subject/action/resource/context request (with `defaults` filling what an
// evaluations item leaves out, whole entity by whole entity) into the engine's input. Errors
// are InvalidArgument naming the field, prefixed with `where` (e.g. "evaluations[2].").
Result<engine::DecisionInput> ParseAuthzenEvaluation(const nlohmann::json& item, const nlohmann::json& defaults,
                                                     const std::string& where);

// Reads an AuthZEN Subject or Resource object at `field` ("subject", "evaluations[1].resource").
// `type` must be a non-empty string; `id` too when `id_required`, and is ignored otherwise (the
// entity a search looks for); `properties`, when present and not null, an object.
Status ReadAuthzenEntity(const nlohmann::json& value, const std::string& field, bool id_required,
                         engine::Entity& out);

// Reads an AuthZEN Action object at `field` into `name`: `name` a non-empty string,
// `properties` (optional) an object.
Status ReadAuthzenAction(const nlohmann::json& value, const std::string& field, std::string& name,
                         nlohmann::json& properties);

// Whether a request's context asks for the explanation (context.warden.explain: true).
bool WantsAuthzenExplanation(const nlohmann::json& context);

// One decision in AuthZEN's response shape: {"decision", "context": {"revision", "reason_admin"?}}.
// `snapshot` null leaves the revision out (a batch item: the batch's own context gives it); the
// explanation only when `explain`.
nlohmann::json AuthzenDecisionJson(const engine::DecisionResult& result, const Snapshot* snapshot, bool explain);
// AuthzenDecisionJson(result, snapshot, false).dump(), written directly: the answer to nearly
// every evaluation, made without building a document.
std::string PlainAuthzenDecisionBody(bool allowed, uint64_t revision);

enum class AuthzenSemantic { kExecuteAll, kDenyOnFirstDeny, kPermitOnFirstPermit };
// options.evaluations_semantic of an evaluations request (execute_all when absent).
Result<AuthzenSemantic> ReadAuthzenSemantic(const nlohmann::json& body);

// Answers an AuthZEN evaluations request that has an `evaluations` array, as
// POST /access/v1/evaluations does: request-level defaults, per-item errors as closed decisions,
// options.evaluations_semantic. InvalidArgument for a malformed payload; ResourceExhausted when
// it holds more than `max_items`. `decided`, when set, sees every decision made.
Result<nlohmann::json> EvaluateAuthzenBatch(
    const Snapshot& snapshot, const nlohmann::json& body, size_t max_items, const engine::DecisionLimits& limits,
    const std::function<void(const engine::DecisionInput&, const engine::DecisionResult&)>& decided = {});

}  // namespace warden::wire
