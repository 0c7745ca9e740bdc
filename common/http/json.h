// JSON bodies and errors: the shapes every Warden HTTP API shares.
//
// Every error is `{"error": {"code": "...", "message": "..."}}` with the status that fits; the
// message names the problem (the field, the byte offset) and never leaks internals.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "common/http/request.h"
#include "common/util/json_text.h"
#include "common/util/status.h"

namespace warden::http {

// The HTTP status an expected failure maps to (invalid_argument -> 400, not_found -> 404, ...).
unsigned HttpStatusFor(StatusCode code);

Response ErrorResponse(unsigned status, std::string_view code, std::string_view message);
// An error response for a non-ok Status, with HttpStatusFor(status.code()).
Response ErrorResponse(const Status& status);
Response JsonResponse(const nlohmann::json& body, unsigned status = 200);

// Declared in common/util/json_text.h; named here too for the HTTP code that has always used them.
using warden::CheckJsonNesting;

// Whether the request's Content-Type is one ParseJsonBody reads (or absent).
bool HasJsonMediaType(const Request& request);

// Parses the request body as a JSON document. On failure returns the error response to send:
// 415 when Content-Type is present and neither JSON (application/json, */*+json) nor text/plain
// (what fetch() sends for a string body, and what Cerbos's own clients send), 400 naming the byte offset and reason when the
// body is not valid JSON (an empty body included) or nests deeper than request.max_json_depth(). On success fills `out`
// and returns nullopt.
std::optional<Response> ParseJsonBody(const Request& request, nlohmann::json& out);

}  // namespace warden::http
