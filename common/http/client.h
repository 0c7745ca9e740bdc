// Client: a small blocking HTTP/1.1 client for Warden's own calls between processes (an edge
// pulling from the control plane). One request per call on a fresh connection; every step is
// bounded by the timeout, so a dead peer costs a timeout, never a hang.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "common/util/status.h"

namespace warden::http {

struct ClientResponse {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, names as sent
  std::string body;
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // http://host:port/path?query
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{10'000};
  // https: the CA bundle that verifies the server (empty: the system's); the host name is checked.
  std::string ca_file;
};

struct ParsedUrl {
  bool tls = false;
  std::string host, port, target;
};
// http[s]://HOST:PORT[/PATH]; InvalidArgument naming what is wrong.
Result<ParsedUrl> ParseUrl(const std::string& url);

// A TLS 1.2+ client context verifying peers against `ca_file` (empty: the system's CAs).
Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientTlsContext(const std::string& ca_file);

// Sends `request`. Fails with Unavailable naming the URL when the peer cannot be reached or the
// connection breaks, DeadlineExceeded when the timeout passes, InvalidArgument for a URL that is
// not http[s]://HOST:PORT/PATH or an unreadable CA bundle. Any HTTP status is a successful call.
Result<ClientResponse> Fetch(const ClientRequest& request);

}  // namespace warden::http
