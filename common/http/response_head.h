// The status line and header block of a response, written straight into one string.
//
// Beast's generic serializer (a field container, then buffer sequences walked piece by piece)
// cost more per request than a whole decision; a response here is a few fixed headers, so the
// server formats them itself and writes head and body as two buffers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/http/request.h"

namespace warden::http {

// The head Beast would write for `response` (same fields, same order): status line for HTTP
// `version` (10 or 11), Server, Content-Type, the response's own headers (a later header
// replaces an earlier one of the same name; Content-Length and Connection are the server's),
// Connection as keep-alive semantics need it, and Content-Length: `content_length`, except for
// 1xx, 204 and 304 answers, which carry no body (there Beast wrote "Content-Length: 0", which
// RFC 9110 forbids on 1xx and 204).
std::string ResponseHead(const Response& response, unsigned version, bool keep_alive, std::string_view server_header,
                         size_t content_length);

// Whether a response with this status may carry a body at all.
bool StatusAllowsBody(unsigned status);

}  // namespace warden::http
