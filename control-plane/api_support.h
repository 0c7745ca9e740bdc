// What every admin API handler shares: authentication, limits on names and sizes, and the
// shapes of write answers and refusals.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http/json.h"
#include "common/http/router.h"
#include "control-plane/control_plane.h"

namespace warden::control_plane {

struct AdminLimits {
  size_t max_write_body = 16u << 20;   // every body but push and import
  size_t max_bulk_body = 512u << 20;   // push and import (the server's max-body also applies)
  size_t max_import_lines = 5'000'000;
  size_t max_id_bytes = 512;    // object and subject ids
  size_t max_name_bytes = 64;   // types, relations, tags
  size_t max_path_bytes = 256;  // policy paths
  int max_json_depth = 128;  // each import line and data document (the server's --max-json-depth)
};

// Wraps a handler so it runs only for a caller whose bearer token has `scope` (a write token may
// also read): 401 without a token or with an unknown one (with WWW-Authenticate), 403 for a read
// token on a write, 413 when the body is over `max_body`.
using AuthedHandler = std::function<http::Response(http::Request&, const Caller&)>;
http::Handler Authed(ControlPlane& cp, Scope scope, size_t max_body, AuthedHandler handler);

// {"revision": N, "store_id": "...", "changed": bool}, the answer of every write.
http::Response WriteResponse(const ControlPlane& cp, const WriteOutcome& outcome, unsigned status = 200);

// A refusal listing several problems: {"error": {"code", "message", "errors": [...]}}; the message
// holds the first few, `errors` all of them (each an object naming where and why).
http::Response MultiErrorResponse(unsigned status, std::string_view code, const std::vector<nlohmann::json>& errors,
                                  std::string_view summary);

// Names: a type, relation or tag: 1..max_name_bytes of [A-Za-z0-9_.-], starting with a letter or
// digit. InvalidArgument naming `field`.
Status CheckName(std::string_view field, std::string_view value, const AdminLimits& limits);
// Ids: 1..max_id_bytes, no control characters. InvalidArgument naming `field`.
Status CheckId(std::string_view field, std::string_view value, const AdminLimits& limits);
// Policy paths: relative, 1..max_path_bytes of [A-Za-z0-9_./-], no "..", no leading '/', ending
// in .yaml, .yml or .json.
Status CheckPolicyPath(std::string_view field, std::string_view value, const AdminLimits& limits);
// Every field of an object or relation (names and ids).
Status CheckObject(std::string_view field, const directory::ObjectRecord& object, const AdminLimits& limits);
Status CheckRelation(std::string_view field, const directory::RelationTuple& relation, const AdminLimits& limits);

// A query parameter as an unsigned integer in [min, max], or `fallback` when absent.
Result<uint64_t> QueryUint(const http::Request& request, std::string_view name, uint64_t fallback, uint64_t min,
                           uint64_t max);

// Unix seconds as RFC 3339 UTC ("2026-11-24T04:40:36Z").
std::string Rfc3339(int64_t unix_seconds);

}  // namespace warden::control_plane
