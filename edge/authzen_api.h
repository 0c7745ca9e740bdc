// The OpenID AuthZEN Authorization API 1.0 at the edge (docs/authzen.md):
//   POST /access/v1/evaluation          one decision
//   POST /access/v1/evaluations         a batch with request-level defaults and evaluations_semantic
//   POST /access/v1/search/subject      who may do the action on the resource   (authzen_search.cpp)
//   POST /access/v1/search/resource     which resources the subject may act on  (authzen_search.cpp)
//   POST /access/v1/search/action       what the subject may do on the resource (authzen_search.cpp)
//   GET  /.well-known/authzen-configuration
//
// What every endpoint promises, following the final 1.0 text and its certification profile:
//   - a request whose Content-Type is not application/json, whose body is not a JSON object, or
//     that lacks a required field or gives it the wrong type is answered 400 with
//     {"error": {"code", "message"}}, the message naming the field ("subject.id: ...") or the byte
//     where the JSON broke;
//   - a deny is 200 with "decision": false, never an HTTP error;
//   - an X-Request-ID header is echoed on the response, errors included;
//   - every answer made from a snapshot carries its revision: the `Warden-Revision` header and
//     `context.revision` in the body. A request may ask for a revision at least R with the
//     `Warden-Min-Revision` header or `context.warden.min_revision`; the edge waits up to
//     --min-revision-wait for it, else answers 503 `revision_unavailable` naming both revisions.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/engine/decision.h"
#include "common/wire/authzen.h"
#include "common/http/router.h"
#include "edge/edge_context.h"

namespace warden::edge {

void AddAuthzenRoutes(http::Router& router, EdgeContext& context);

// The search endpoints; defined in authzen_search.cpp.
void AddAuthzenSearchRoutes(http::Router& router, EdgeContext& context);

// ---- Shared by the evaluation and search handlers. ----

// Parses an AuthZEN request body into `out` (a JSON object). On failure returns the 400 to send:
// a Content-Type other than application/json (or none), an empty or malformed body (naming the
// byte offset), or a body that is not an object.
std::optional<http::Response> ReadAuthzenBody(const http::Request& request, nlohmann::json& out);

// The snapshot to answer `body` from, honouring Warden-Min-Revision / context.warden.min_revision.
// On failure `error` holds the response to send (503 not_ready, 503 revision_unavailable, or 400
// for a malformed min_revision) and the result is null.
const Snapshot* AuthzenSnapshot(EdgeContext& context, const http::Request& request, const nlohmann::json& body,
                                std::optional<http::Response>& error);

// Completes a response: echoes X-Request-ID and, when `snapshot` is given, adds Warden-Revision.
http::Response FinishAuthzen(http::Response response, const http::Request& request, const Snapshot* snapshot);

}  // namespace warden::edge
