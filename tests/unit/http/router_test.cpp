#include "common/http/router.h"

#include <doctest/doctest.h>

using namespace warden::http;

namespace {
Handler Answer(std::string body) {
  return [body](Request&) {
    Response response;
    response.body = body;
    return response;
  };
}
}  // namespace

TEST_CASE("router matches literal paths and captures named segments") {
  warden::metrics::Registry registry;
  Router router(registry);
  router.Add(Method::kGet, "/v1/objects/{type}/{id}", Answer("object"));
  router.Add(Method::kGet, "/v1/objects", Answer("list"));

  auto match = router.Find(Method::kGet, "/v1/objects/user/alice%40acme.com");
  REQUIRE(match.kind == Router::MatchKind::kFound);
  REQUIRE(match.params.size() == 2);
  CHECK(match.params[0] == std::pair<std::string, std::string>("type", "user"));
  CHECK(match.params[1] == std::pair<std::string, std::string>("id", "alice@acme.com"));

  CHECK(router.Find(Method::kGet, "/v1/objects").kind == Router::MatchKind::kFound);
  CHECK(router.Find(Method::kGet, "/v1/objects/user").kind == Router::MatchKind::kNoPath);
  CHECK(router.Find(Method::kGet, "/v1/objects/user/").kind == Router::MatchKind::kNoPath);
  CHECK(router.Find(Method::kGet, "/v1/objects/user/alice/extra").kind == Router::MatchKind::kNoPath);
}

TEST_CASE("a known path with the wrong method lists the allowed methods") {
  warden::metrics::Registry registry;
  Router router(registry);
  router.Add(Method::kGet, "/v1/policies", Answer("list"));
  router.Add(Method::kPost, "/v1/policies", Answer("create"));
  auto match = router.Find(Method::kDelete, "/v1/policies");
  CHECK(match.kind == Router::MatchKind::kWrongMethod);
  CHECK(match.allow == "GET, POST");
}

TEST_CASE("HEAD is served by the GET route") {
  warden::metrics::Registry registry;
  Router router(registry);
  router.Add(Method::kGet, "/healthz", Answer("ok"));
  CHECK(router.Find(Method::kHead, "/healthz").kind == Router::MatchKind::kFound);
}

TEST_CASE("a rest capture takes the remainder of the path") {
  warden::metrics::Registry registry;
  Router router(registry);
  router.Add(Method::kGet, "/v1/policies/{name...}", Answer("policy"));
  auto match = router.Find(Method::kGet, "/v1/policies/finance/expense.yaml");
  REQUIRE(match.kind == Router::MatchKind::kFound);
  CHECK(match.params[0].second == "finance/expense.yaml");
}

TEST_CASE("query parameters are percent-decoded") {
  Request request(Method::kGet, "/v1/relations?subject=user%3Aalice&page_size=10&flag", "", nullptr, nullptr);
  CHECK(request.path() == "/v1/relations");
  CHECK(request.query_param("subject").value() == "user:alice");
  CHECK(request.query_param("page_size").value() == "10");
  CHECK(request.query_param("flag").value() == "");
  CHECK_FALSE(request.query_param("missing").has_value());
}
