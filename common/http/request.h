// Request and Response: what an HTTP handler sees and returns.
//
// Handlers are plain functions from Request to Response; they never touch sockets, Beast types or
// threads. Keeping Beast out of this header keeps it out of every handler's compile.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace warden::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

std::string_view MethodName(Method method);

class Request {
 public:
  // `header_lookup` resolves a header by case-insensitive name in the transport's message; it is
  // provided by the server, which keeps the message alive while the handler runs.
  using HeaderLookup = std::string_view (*)(const void* message, std::string_view name);

  Request(Method method, std::string_view target, std::string body, const void* message,
          HeaderLookup header_lookup);

  Method method() const { return method_; }
  // The request target as sent: path plus optional "?query".
  std::string_view target() const { return target_; }
  // The target's path, without the query string (not percent-decoded).
  std::string_view path() const { return path_; }
  std::string_view query() const { return query_; }
  const std::string& body() const { return body_; }

  // A header's value, or empty when absent. Names compare case-insensitively.
  std::string_view header(std::string_view name) const;

  // A query parameter's percent-decoded value, or nullopt when absent.
  std::optional<std::string> query_param(std::string_view name) const;

  // A value captured by a `{name}` segment of the matched route, percent-decoded; empty when the
  // route has no such parameter.
  std::string_view path_param(std::string_view name) const;
  void set_path_params(std::vector<std::pair<std::string, std::string>> params) {
    path_params_ = std::move(params);
  }
  // Whether a handler may answer Response::Later (the server's first call); false on the server's
  // second call, once the wait is over, and for callers that are not a server.
  bool may_wait() const { return may_wait_; }
  void set_may_wait(bool may_wait) { may_wait_ = may_wait; }
  // How deep a JSON body may nest (the server's --max-json-depth); ParseJsonBody refuses deeper.
  int max_json_depth() const { return max_json_depth_; }
  void set_max_json_depth(int depth) { max_json_depth_ = depth; }

 private:
  Method method_;
  std::string_view target_;
  std::string_view path_;
  std::string_view query_;
  std::string body_;
  const void* message_;
  HeaderLookup header_lookup_;
  std::vector<std::pair<std::string, std::string>> path_params_;
  int max_json_depth_ = 128;
  bool may_wait_ = false;
};

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers beyond Content-Type, Content-Length, Server and Connection.
  std::vector<std::pair<std::string, std::string>> headers;

  Response& with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }

  // Set only by Later(): the handler cannot answer yet (it waits for something another thread
  // brings in, such as a revision). The server then waits without holding its thread until
  // ready() or the deadline, and calls the handler again with request.may_wait() false. ready()
  // is asked again each time whoever brings the change in calls Server::WakeWaitingRequests().
  std::function<bool()> ready;
  std::chrono::steady_clock::time_point ready_deadline;

  // REQUIRES: the request's may_wait().
  static Response Later(std::function<bool()> ready, std::chrono::steady_clock::time_point deadline) {
    Response response;
    response.ready = std::move(ready);
    response.ready_deadline = deadline;
    return response;
  }
};

// Decodes %XX escapes (and '+' as space when `plus_is_space`); invalid escapes are kept verbatim.
std::string PercentDecode(std::string_view text, bool plus_is_space = false);

}  // namespace warden::http
