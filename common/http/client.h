// Client: a small blocking HTTP/1.1 client for Warden's own calls between processes (an edge
// pulling from the control plane). One request per call on a fresh connection; every step is
// bounded by the timeout, so a dead peer costs a timeout, never a hang.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/status.h"

// Declared only: the edge's option structs hold ClientTlsFiles, and the many files including them
// need not compile OpenSSL's headers.
namespace boost::asio {
class io_context;
namespace ssl {
class context;
}  // namespace ssl
}  // namespace boost::asio

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

// Lets another thread end a Fetch in flight at once, e.g. a follower stopping while its long poll
// waits: Cancel() ends the current Fetch given this canceller and refuses every later one.
class FetchCanceller {
 public:
  void Cancel();
  bool cancelled() const;

 private:
  friend class FetchRegistration;
  mutable std::mutex mutex_;
  boost::asio::io_context* in_flight_ = nullptr;  // GUARDED_BY(mutex_)
  bool cancelled_ = false;                        // GUARDED_BY(mutex_)
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // http://host:port/path?query
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{10'000};
  // https: what verifies the server (its host name is checked too) and what this client presents.
  ClientTlsFiles tls;
  // When set, FetchCanceller::Cancel() from another thread ends the request (Unavailable, "cancelled").
  FetchCanceller* canceller = nullptr;
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

// Whether an error category, by its name(), is Asio's TLS ("asio.ssl", "asio.ssl.stream").
// By name rather than by the category object's address: the clang sanitizer build ends up with
// more than one instance of Asio's category objects, so addresses do not compare equal.
bool IsTlsErrorCategory(std::string_view category_name);

// Sends `request`. Fails with Unavailable naming the URL when the peer cannot be reached or the
// connection breaks or its canceller was cancelled, DeadlineExceeded when the timeout passes, InvalidArgument for a URL that is
// not http[s]://HOST:PORT/PATH or TLS files that do not load (see MakeClientTlsContext). Any HTTP status is a successful call.
Result<ClientResponse> Fetch(const ClientRequest& request);

}  // namespace warden::http
