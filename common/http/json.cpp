#include "common/http/json.h"

#include "common/http/json_fast_parse.h"

#include <nlohmann/json.hpp>

namespace warden::http {

unsigned HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kOutOfRange: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kResourceExhausted: return 413;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kStorageFull: return 507;  // Insufficient Storage: the server's disk, not the request
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

Response ErrorResponse(unsigned status, std::string_view code, std::string_view message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  Response response;
  response.status = status;
  // Messages quote what the client sent (a JSON parse error's last bytes, a header), which need not
  // be UTF-8: replaced, so the error itself never fails to serialize.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

Response ErrorResponse(const Status& status) {
  if (status.code() == StatusCode::kInternal) {
    // Internal details stay in the server's log; the caller learns only that it was not their fault.
    return ErrorResponse(500, "internal", "internal error");
  }
  return ErrorResponse(HttpStatusFor(status.code()), StatusCodeName(status.code()), status.message());
}

Response JsonResponse(const nlohmann::json& body, unsigned status) {
  Response response;
  response.status = status;
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

namespace {

// The media type of a Content-Type header ("application/json; charset=utf-8" -> "application/json").
std::string_view MediaType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return media;
}

bool IsJsonMediaType(std::string_view media) {
  return media == "application/json" || media == "text/plain" ||
         (media.size() > 5 && media.substr(media.size() - 5) == "+json");
}

}  // namespace

bool HasJsonMediaType(const Request& request) {
  std::string_view content_type = request.header("Content-Type");
  return content_type.empty() || IsJsonMediaType(MediaType(content_type));
}

std::optional<Response> ParseJsonBody(const Request& request, nlohmann::json& out) {
  if (!HasJsonMediaType(request)) {
    return ErrorResponse(415, "unsupported_media_type", "Content-Type must be application/json, got '" +
                                                            std::string(MediaType(request.header("Content-Type"))) + "'");
  }
  if (request.body().empty()) {
    return ErrorResponse(400, "invalid_json", "request body is empty; a JSON document is required");
  }
  if (FastParseJson(request.body(), request.max_json_depth(), out)) return std::nullopt;
  // Not taken by the fast parser: malformed, too deep, or unusual (json_fast_parse.h); the
  // checks below find which and say so.
  out = nlohmann::json();
  if (Status nesting = CheckJsonNesting(request.body(), request.max_json_depth()); !nesting.ok()) {
    return ErrorResponse(400, "invalid_json", nesting.message());
  }
  out = nlohmann::json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  if (out.is_discarded()) {
    // Parse again with exceptions only on the failure path, to learn where and why.
    try {
      nlohmann::json ignored = nlohmann::json::parse(request.body());
      (void)ignored;
    } catch (const nlohmann::json::parse_error& error) {
      std::string what = error.what();
      auto colon = what.find(": ");
      std::string reason = colon == std::string::npos ? what : what.substr(colon + 2);
      return ErrorResponse(400, "invalid_json",
                           "malformed JSON at byte " + std::to_string(error.byte) + ": " + reason);
    } catch (const nlohmann::json::exception& error) {
      // A number too large for a double ("1e999") is an out_of_range error, not a parse_error.
      std::string what = error.what();
      auto bracket = what.find("] ");
      return ErrorResponse(400, "invalid_json",
                           "malformed JSON: " + (bracket == std::string::npos ? what : what.substr(bracket + 2)));
    }
    return ErrorResponse(400, "invalid_json", "malformed JSON");
  }
  return std::nullopt;
}

}  // namespace warden::http
