// Fuzzes the edge's HTTP APIs through their real handlers and router, without a socket: AuthZEN
// evaluation, batch and search, Cerbos check and plan, and the directory API, answered from
// examples/authzen-todo, the Cerbos conformance corpus's policies, examples/drive or
// examples/authzen-search.
// Input: a route byte (low 6 bits: the route; top 2: the edge, in the order of `edges`); a flags
// byte (1: Content-Type text/plain; 2: a Warden-Min-Revision value follows, ended by a lone
// backslash; 4: an X-Request-ID); then the body (POST) or the query string or path tail (GET).
// Properties: nothing crashes, throws, hangs or leaks; every answer has a status in 200..599;
// every 200 answer is JSON.
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/http/router.h"
#include "common/metrics/registry.h"
#include "common/snapshot/folder_snapshot.h"
#include "edge/authzen_api.h"
#include "edge/cerbos_api.h"
#include "edge/directory_api.h"
#include "edge/edge_context.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using warden::fuzz::FuzzInput;
namespace http = warden::http;
namespace edge = warden::edge;

struct Route {
  http::Method method;
  std::string_view path;  // for GET routes, the input is appended: a query or the path's tail
};

// The route byte's low 6 bits modulo this list's size pick the route; its top 2 bits the edge.
constexpr Route kRoutes[] = {
    {http::Method::kPost, "/access/v1/evaluation"},
    {http::Method::kPost, "/access/v1/evaluations"},
    {http::Method::kPost, "/access/v1/search/subject"},
    {http::Method::kPost, "/access/v1/search/resource"},
    {http::Method::kPost, "/access/v1/search/action"},
    {http::Method::kPost, "/api/check/resources"},
    {http::Method::kPost, "/api/plan/resources"},
    {http::Method::kPost, "/api/v3/directory/check"},
    {http::Method::kPost, "/api/v3/directory/lookup"},
    {http::Method::kPost, "/api/v3/directory/expand"},
    {http::Method::kPost, "/api/v3/directory/identity"},
    {http::Method::kGet, "/api/v3/directory/object/"},
    {http::Method::kGet, "/api/v3/directory/objects?"},
    {http::Method::kGet, "/api/v3/directory/relations?"},
    {http::Method::kGet, "/.well-known/authzen-configuration?"},
};
constexpr size_t kRouteCount = sizeof(kRoutes) / sizeof(kRoutes[0]);

struct Headers {
  std::string_view content_type;
  std::string_view min_revision;
  std::string_view request_id;
};

std::string_view LookupHeader(const void* message, std::string_view name) {
  const auto& headers = *static_cast<const Headers*>(message);
  auto is = [name](std::string_view wanted) {
    if (name.size() != wanted.size()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(name[i])) != std::tolower(static_cast<unsigned char>(wanted[i]))) {
        return false;
      }
    }
    return true;
  };
  if (is("Content-Type")) return headers.content_type;
  if (is("Warden-Min-Revision")) return headers.min_revision;
  if (is("X-Request-ID")) return headers.request_id;
  return {};
}

// One edge: its context (holding one snapshot) and router.
struct Edge {
  warden::metrics::Registry registry;
  edge::EdgeContext context{registry};
  http::Router router{registry};

  explicit Edge(const char* folder) {
    auto loaded = warden::LoadSnapshotFolder(std::string(WARDEN_SOURCE_DIR) + "/" + folder, 7, "fuzz");
    if (!loaded.ok()) {
      std::fprintf(stderr, "cannot load %s: %s\n", folder, loaded.status().message().c_str());
      std::abort();
    }
    context.holder().Publish(std::move(*loaded));
    context.limits.min_revision_wait = std::chrono::milliseconds(0);  // a fuzzer cannot wait
    edge::AddAuthzenRoutes(router, context);
    edge::AddAuthzenSearchRoutes(router, context);
    edge::AddCerbosRoutes(router, context);
    edge::AddDirectoryRoutes(router, context);
  }
};

Edge* edges[4];

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  // Intentionally never freed: both serve every input until the process exits.
  edges[0] = new Edge("examples/authzen-todo");
  edges[1] = new Edge("tests/conformance/corpus/cerbos");  // policies for the Cerbos corpus's requests
  edges[2] = new Edge("examples/drive");  // a manifest with permissions, arrows and exclusions
  edges[3] = new Edge("examples/authzen-search");  // the AuthZEN search corpus's data
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput in(data, size);
  uint8_t route_byte = in.Byte();
  const Route& route = kRoutes[(route_byte & 0x3f) % kRouteCount];
  Edge& edge = *edges[route_byte >> 6];
  uint8_t flags = in.Byte();
  std::string min_revision = (flags & 2) ? in.String(24) : std::string();
  Headers headers;
  headers.content_type = (flags & 1) ? "text/plain" : "application/json";
  headers.min_revision = min_revision;
  headers.request_id = (flags & 4) ? "fuzz-request" : "";

  std::string_view rest = in.Rest();
  std::string target(route.path);
  std::string body;
  if (route.method == http::Method::kGet) {
    target += rest;
  } else {
    body.assign(rest);
  }
  http::Request request(route.method, target, std::move(body), &headers, &LookupHeader);
  http::Router::Match match = edge.router.Find(route.method, request.path());
  if (match.kind != http::Router::MatchKind::kFound) return 0;  // a GET tail that leaves the route
  request.set_path_params(std::move(match.params));
  http::Response response = match.route->handler(request);  // a handler that throws is a bug (500)

  if (response.status < 200 || response.status > 599) {
    std::fprintf(stderr, "%s answered status %u\n", target.c_str(), response.status);
    std::abort();
  }
  if (response.status == 200 && !nlohmann::json::accept(response.body)) {
    std::fprintf(stderr, "%s answered 200 with a body that is not JSON: %s\n", target.c_str(), response.body.c_str());
    std::abort();
  }
  return 0;
}
