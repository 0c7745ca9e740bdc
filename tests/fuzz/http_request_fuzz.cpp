// Fuzzes Warden's HTTP/1.1 server with raw bytes: one Server (with the standard routes, a few
// routes that read path and query parameters, headers and the body, and a WebSocket endpoint
// that echoes) runs for the whole process on 127.0.0.1; each input is written to a new
// connection, which is then half-closed, and the answer is read until the server closes.
// Input: the bytes a client sends (requests, pipelined or not; after an upgrade, WebSocket frames).
// Properties: nothing crashes, hangs or leaks; after the client's half-close the server always
// ends the connection within its timeouts (read and idle timeouts are 200 ms here).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/http/json.h"
#include "common/http/router.h"
#include "common/http/server.h"
#include "common/http/standard_routes.h"
#include "common/metrics/registry.h"

namespace {

namespace http = warden::http;

// Far beyond the server's 200 ms timeouts: a connection still open after this is a hang.
constexpr int kClientTimeoutSeconds = 5;

class EchoSession : public http::WebSocketSession {
 public:
  // Weak: the channel owns the session, so a strong pointer back would keep both alive forever.
  void OnOpen(std::shared_ptr<http::WebSocketChannel> channel) override { channel_ = channel; }
  void OnMessage(std::string message) override {
    auto channel = channel_.lock();
    if (!channel) return;
    if (message == "close") {
      channel->Close(1000, "bye");
    } else {
      channel->Send(std::move(message));
    }
  }
  void OnClose() override {}

 private:
  std::weak_ptr<http::WebSocketChannel> channel_;
};

struct TestServer {
  warden::metrics::Registry registry;
  http::Router router{registry};
  std::unique_ptr<http::Server> server;

  TestServer() {
    http::AddStandardRoutes(router, [] { return std::string(); });
    router.Add(http::Method::kGet, "/v1/items/{id}", [](http::Request& request) {
      nlohmann::json body = {{"id", request.path_param("id")},
                             {"q", request.query_param("q").value_or("")},
                             {"agent", request.header("User-Agent")}};
      return http::JsonResponse(body);
    });
    router.Add(http::Method::kPost, "/v1/echo", [](http::Request& request) {
      http::Response response;
      response.content_type = std::string(request.header("Content-Type"));
      response.body = request.body();
      return response;
    });
    router.Add(http::Method::kPut, "/v1/files/{path...}", [](http::Request& request) {
      if (request.body().empty()) return http::ErrorResponse(400, "invalid_argument", "body: required");
      return http::JsonResponse({{"path", request.path_param("path")}, {"bytes", request.body().size()}}, 201);
    });
    router.AddUpgrade("/v1/ws", [](http::Request& request) {
      http::UpgradeDecision decision;
      if (request.header("Authorization").empty()) {
        decision.refusal = http::ErrorResponse(401, "unauthenticated", "a token is required");
      } else {
        decision.session = std::make_shared<EchoSession>();
      }
      return decision;
    }, http::WebSocketLimits{4096});

    http::ServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 1;
    options.max_header_bytes = 2048;
    options.max_body_bytes = 8192;
    options.max_connections = 64;
    options.read_timeout = std::chrono::milliseconds(200);
    options.idle_timeout = std::chrono::milliseconds(200);
    options.shutdown_grace = std::chrono::milliseconds(200);
    server = std::make_unique<http::Server>(options, router);
    if (!server->Start().ok()) std::abort();
  }
};

TestServer& Server() {
  static TestServer server;
  return server;
}

// Says which step failed and why before aborting: libFuzzer reports every abort alike, and a CI
// log that only shows "deadly signal" cannot tell a hung server from a refused socket.
[[noreturn]] void Fail(const char* step, int error) {
  std::fprintf(stderr, "http_request_fuzz: %s: %s\n", step, std::strerror(error));
  std::abort();
}

// The harness's own connection, not the server under test, fails here when the machine runs
// short of ephemeral ports or a SYN lands on a 4-tuple still in TIME_WAIT (the server closes
// first, thousands of times a second): such failures are retried. A refusal is never retried,
// since the listener lives as long as the process.
int Connect(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int last_error = 0;
  for (int attempt = 0; attempt < 5; ++attempt) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) Fail("socket", errno);
    timeval timeout{kClientTimeoutSeconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) return fd;
    last_error = errno;
    close(fd);
    if (last_error == ECONNREFUSED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50 << attempt));
  }
  Fail("connect", last_error);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  (void)Server();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = Connect(Server().server->port());

  // The server may answer and close before reading everything (a 431, a 413): a failed send
  // then is expected, and what it did answer is still read below.
  for (size_t sent = 0; sent < size;) {
    ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  char buffer[4096];
  for (;;) {
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n > 0 || (n < 0 && errno == EINTR)) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) Fail("the server never closed the connection", errno);
    break;  // closed, or reset after refusing the rest
  }
  // No TIME_WAIT left behind: a long run opens more connections than there are ephemeral ports.
  linger no_linger{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_linger, sizeof no_linger);
  close(fd);
  return 0;
}
