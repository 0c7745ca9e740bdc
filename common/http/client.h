// Client: a small blocking HTTP/1.1 client for Warden's own calls between processes (an edge
// pulling from the control plane). One request per call on a fresh connection; every step is
// bounded by the timeout, so a dead peer costs a timeout, never a hang.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/util/status.h"

// Declared only: the edge's option structs hold ClientTlsFiles, and the many files including them
// need not compile OpenSSL's headers.
namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace warden::http {

struct ClientResponse {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, names as sent
  std::string body;
};

// The files of a TLS client: the CA bundle that verifies the server, and for mutual TLS the
// certificate and key it presents (both or neither).
struct ClientTlsFiles {
  std::string ca_file;    // empty: the system's CAs
  std::string cert_file;  // PEM certificate chain; empty: no client certificate
  std::string key_file;   // PEM private key of cert_file
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // http://host:port/path?query
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{10'000};
  // https: what verifies the server (its host name is checked too) and what this client presents.
  ClientTlsFiles tls;
};

struct ParsedUrl {
  bool tls = false;
  std::string host, port, target;
};
// http[s]://HOST:PORT[/PATH]; InvalidArgument naming what is wrong.
Result<ParsedUrl> ParseUrl(const std::string& url);

// A TLS 1.2+ client context verifying peers against `files.ca_file` and presenting
// `files.cert_file` when set. InvalidArgument naming the file for an unreadable CA bundle,
// certificate or key, a key that does not match its certificate, or only one of the two.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeClientTlsContext(const ClientTlsFiles& files);

// Sends `request`. Fails with Unavailable naming the URL when the peer cannot be reached or the
// connection breaks, DeadlineExceeded when the timeout passes, InvalidArgument for a URL that is
// not http[s]://HOST:PORT/PATH or TLS files that do not load (see MakeClientTlsContext). Any HTTP status is a successful call.
Result<ClientResponse> Fetch(const ClientRequest& request);

}  // namespace warden::http
