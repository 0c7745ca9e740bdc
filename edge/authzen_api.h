// The OpenID AuthZEN Authorization API 1.0 at the edge:
//   POST /access/v1/evaluation          one decision
//   POST /access/v1/evaluations         a batch with request-level defaults and evaluations_semantic
//   POST /access/v1/search/subject      who may do the action on the resource   (authzen_search.cpp)
//   POST /access/v1/search/resource     which resources the subject may act on  (authzen_search.cpp)
//   POST /access/v1/search/action       what the subject may do on the resource (authzen_search.cpp)
//   GET  /.well-known/authzen-configuration
// Every answer carries the revision it was decided at: the `Warden-Revision` header and
// `context.revision` in the body.
#pragma once

#include <nlohmann/json.hpp>

#include "common/engine/decision.h"
#include "common/http/router.h"
#include "edge/edge_context.h"

namespace warden::edge {

void AddAuthzenRoutes(http::Router& router, EdgeContext& context);
// The search endpoints; defined in authzen_search.cpp.
void AddAuthzenSearchRoutes(http::Router& router, EdgeContext& context);

// Reads an AuthZEN subject/action/resource/context request (with `defaults` filling what an
// evaluations item leaves out) into the pipeline's input. Errors name the field, prefixed with
// `where` (e.g. "evaluations[2].").
Result<engine::DecisionInput> ParseAuthzenEvaluation(const nlohmann::json& item, const nlohmann::json& defaults,
                                                     const std::string& where);

}  // namespace warden::edge
