#include "common/http/server.h"

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <thread>

#include "common/http/json.h"
#include "raw_client.h"

using namespace std::chrono_literals;
using namespace warden::http;
using warden::testing::RawClient;

namespace {

Response Text(std::string body) {
  Response response;
  response.body = std::move(body);
  return response;
}

std::string Get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n"; }

struct TestServer {
  warden::metrics::Registry registry;
  Router router{registry};
  std::unique_ptr<Server> server;

  explicit TestServer(ServerOptions options = {}) {
    router.Add(Method::kGet, "/echo/{word}", [](Request& r) { return Text(std::string(r.path_param("word"))); });
    router.Add(Method::kPost, "/size", [](Request& r) { return Text(std::to_string(r.body().size())); });
    router.Add(Method::kGet, "/throw", [](Request&) -> Response { throw std::runtime_error("secret detail"); });
    options.port = 0;
    server = std::make_unique<Server>(options, router);
  }
  void Start() { REQUIRE(server->Start().ok()); }
};

}  // namespace

TEST_CASE("keep-alive and pipelined requests are answered in order on one connection") {
  TestServer test;
  test.Start();
  RawClient client(test.server->port());
  REQUIRE(client.connected());
  REQUIRE(client.Send(Get("/echo/one") + Get("/echo/two") + Get("/echo/three")));
  std::string responses = client.ReadResponses(3);
  CHECK(RawClient::CompleteResponses(responses) == 3);
  auto one = responses.find("\r\n\r\none");
  auto two = responses.find("\r\n\r\ntwo");
  auto three = responses.find("\r\n\r\nthree");
  REQUIRE(one != std::string::npos);
  REQUIRE(two != std::string::npos);
  REQUIRE(three != std::string::npos);
  CHECK(one < two);
  CHECK(two < three);
  // The connection is still usable afterwards.
  REQUIRE(client.Send(Get("/echo/four")));
  CHECK(client.ReadResponses(1).find("four") != std::string::npos);
}

TEST_CASE("unknown paths get 404 and wrong methods 405 with Allow") {
  TestServer test;
  test.Start();
  RawClient client(test.server->port());
  REQUIRE(client.Send(Get("/missing") + "DELETE /echo/x HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::string responses = client.ReadResponses(2);
  CHECK(responses.find("HTTP/1.1 404") == 0);
  CHECK(responses.find(R"("code":"not_found")") != std::string::npos);
  CHECK(responses.find("HTTP/1.1 405") != std::string::npos);
  CHECK(responses.find("Allow: GET") != std::string::npos);
}

TEST_CASE("a body over the limit gets 413 and the connection closes") {
  ServerOptions options;
  options.max_body_bytes = 100;
  TestServer test(options);
  test.Start();
  RawClient client(test.server->port());
  std::string body(101, 'x');
  REQUIRE(client.Send("POST /size HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n" + body));
  std::string response = client.ReadResponses(1);
  CHECK(response.find("HTTP/1.1 413") == 0);
  CHECK(response.find("exceeds the limit of 100 bytes") != std::string::npos);
  CHECK(client.WaitForClose(2s));

  RawClient ok_client(test.server->port());
  REQUIRE(ok_client.Send("POST /size HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x')));
  CHECK(ok_client.ReadResponses(1).find("\r\n\r\n100") != std::string::npos);
}

TEST_CASE("headers over the limit get 431") {
  ServerOptions options;
  options.max_header_bytes = 1024;
  TestServer test(options);
  test.Start();
  RawClient client(test.server->port());
  REQUIRE(client.Send("GET /echo/x HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n"));
  CHECK(client.ReadResponses(1).find("HTTP/1.1 431") == 0);
}

TEST_CASE("malformed HTTP gets 400") {
  TestServer test;
  test.Start();
  RawClient client(test.server->port());
  REQUIRE(client.Send("NOT HTTP AT ALL\r\n\r\n"));
  CHECK(client.ReadResponses(1).find("HTTP/1.1 400") == 0);
}

TEST_CASE("a client that sends a request too slowly is cut off at the read timeout") {
  ServerOptions options;
  options.read_timeout = 300ms;
  TestServer test(options);
  test.Start();
  RawClient client(test.server->port());
  REQUIRE(client.Send("GET /echo/slow HTTP/1.1\r\nHost: t\r\n"));  // never finishes the header
  CHECK(client.WaitForClose(3s));
}

TEST_CASE("an idle keep-alive connection is closed at the idle timeout") {
  ServerOptions options;
  options.idle_timeout = 300ms;
  TestServer test(options);
  test.Start();
  RawClient client(test.server->port());
  REQUIRE(client.Send(Get("/echo/a")));
  CHECK(client.ReadResponses(1).find("HTTP/1.1 200") == 0);
  CHECK(client.WaitForClose(3s));
}

TEST_CASE("a handler that throws gives a 500 without its details") {
  TestServer test;
  test.Start();
  RawClient client(test.server->port());
  REQUIRE(client.Send(Get("/throw")));
  std::string response = client.ReadResponses(1);
  CHECK(response.find("HTTP/1.1 500") == 0);
  CHECK(response.find("secret") == std::string::npos);
}

TEST_CASE("connections beyond the limit get 503") {
  ServerOptions options;
  options.max_connections = 1;
  TestServer test(options);
  test.Start();
  RawClient first(test.server->port());
  REQUIRE(first.Send(Get("/echo/first")));
  REQUIRE(first.ReadResponses(1).find("200") != std::string::npos);
  RawClient second(test.server->port());
  CHECK(second.ReadResponses(1).find("HTTP/1.1 503") == 0);
}

TEST_CASE("graceful stop finishes the request in flight, then refuses new connections") {
  warden::metrics::Registry registry;
  Router router(registry);
  std::atomic<bool> entered{false};
  std::promise<void> release;
  auto released = release.get_future().share();
  router.Add(Method::kGet, "/slow", [&](Request&) {
    entered = true;
    released.wait();
    return Text("finished");
  });
  ServerOptions options;
  options.threads = 2;  // one worker is held by /slow; the other closes the idle connection
  Server server(options, router);
  REQUIRE(server.Start().ok());
  uint16_t port = server.port();

  RawClient idle(port);  // a keep-alive connection with nothing to do is closed at once
  REQUIRE(idle.Send(Get("/healthz-missing")));
  REQUIRE(idle.ReadResponses(1).find("404") != std::string::npos);

  RawClient busy(port);
  REQUIRE(busy.Send(Get("/slow")));
  while (!entered) std::this_thread::sleep_for(1ms);
  auto stopped = std::async(std::launch::async, [&] { server.Stop(); });
  CHECK(idle.WaitForClose(3s));
  CHECK(stopped.wait_for(200ms) == std::future_status::timeout);  // still waiting for /slow
  release.set_value();
  std::string response = busy.ReadResponses(1);
  CHECK(response.find("HTTP/1.1 200") == 0);
  CHECK(response.find("Connection: close") != std::string::npos);
  CHECK(response.find("finished") != std::string::npos);
  CHECK(stopped.wait_for(5s) == std::future_status::ready);
  RawClient late(port);
  CHECK_FALSE(late.connected());
}

TEST_CASE("starting on a port already taken fails with a clear status") {
  TestServer first;
  first.Start();
  ServerOptions options;
  options.port = first.server->port();
  warden::metrics::Registry registry;
  Router router(registry);
  Server second(options, router);
  warden::Status started = second.Start();
  CHECK_FALSE(started.ok());
  CHECK(started.message().find("cannot listen on 127.0.0.1:" + std::to_string(options.port)) == 0);
}

namespace {

// GET /wait answers "ready" once `ready` holds; asked to wait, it waits up to `wait_for`.
struct WaitingServer {
  warden::metrics::Registry registry;
  Router router{registry};
  std::atomic<bool> ready{false};
  std::atomic<int> calls{0};
  std::unique_ptr<Server> server;

  WaitingServer(int threads, std::chrono::milliseconds wait_for) {
    router.Add(Method::kGet, "/wait", [this, wait_for](Request& request) {
      ++calls;
      if (!ready && request.may_wait()) {
        return Response::Later([this] { return ready.load(); }, std::chrono::steady_clock::now() + wait_for);
      }
      return Text(ready ? "ready" : "gave up");
    });
    ServerOptions options;
    options.threads = threads;
    server = std::make_unique<Server>(options, router);
    REQUIRE(server->Start().ok());
  }
};

}  // namespace

TEST_CASE("a waiting request is answered when woken with its condition met, not before") {
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    // The wait's bound is far beyond every read below: only the wake can answer in time.
    WaitingServer test(threads, 60s);
    RawClient client(test.server->port());
    REQUIRE(client.Send(Get("/wait")));
    CHECK(client.ReadResponses(1, 200ms).empty());
    test.server->WakeWaitingRequests();  // woken with nothing changed: it keeps waiting
    CHECK(client.ReadResponses(1, 200ms).empty());
    test.ready = true;
    test.server->WakeWaitingRequests();
    std::string response = client.ReadResponses(1, 10s);
    CHECK(response.find("HTTP/1.1 200") == 0);
    CHECK(response.find("\r\n\r\nready") != std::string::npos);
    CHECK(test.calls == 2);  // asked to wait once, then answered
    // The connection goes on serving.
    REQUIRE(client.Send(Get("/wait")));
    CHECK(client.ReadResponses(1, 10s).find("ready") != std::string::npos);
  }
}

TEST_CASE("a waiting request whose condition never holds is answered at its deadline") {
  WaitingServer test(1, 300ms);
  RawClient client(test.server->port());
  REQUIRE(client.Send(Get("/wait")));
  std::string response = client.ReadResponses(1, 10s);
  CHECK(response.find("HTTP/1.1 200") == 0);
  CHECK(response.find("gave up") != std::string::npos);
  CHECK(test.calls == 2);
}
