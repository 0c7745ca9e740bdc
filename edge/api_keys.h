// ApiKeys: an optional check that callers of the edge API present a key, for deployments that
// cannot use mutual TLS (a sidecar reached over a pod network, say).
//
// A caller gives its key as `Authorization: Bearer KEY`, `Authorization: Basic KEY` (how Topaz's
// clients send an authorizer API key) or `X-API-Key: KEY`. Keys are compared in constant time;
// several may be configured at once so they can be rotated. Health probes (/healthz, /readyz) stay
// open so an orchestrator needs no key.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/http/request.h"
#include "common/util/status.h"

namespace warden::edge {

class ApiKeys {
 public:
  // `key` (one key, "" for none) and the keys in `file` (one per line; blank lines and lines
  // starting with '#' skipped; "" for none). InvalidArgument when the file cannot be read, holds
  // no key, or a key is shorter than 16 bytes (a guessable key is worse than none: it looks safe).
  static Result<ApiKeys> Load(const std::string& key, const std::string& file);

  bool enabled() const { return !keys_.empty(); }
  // nullopt when the request may go on; else the 401 to answer, naming how to give a key.
  std::optional<http::Response> Check(const http::Request& request) const;

 private:
  std::vector<std::string> keys_;
};

}  // namespace warden::edge
