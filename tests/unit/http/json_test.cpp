#include "common/http/json.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace warden::http;

namespace {
struct FakeMessage {
  std::string content_type;
};
std::string_view Lookup(const void* message, std::string_view name) {
  if (name == "Content-Type") return static_cast<const FakeMessage*>(message)->content_type;
  return {};
}
Request MakeRequest(const FakeMessage& message, std::string body) {
  return Request(Method::kPost, "/x", std::move(body), &message, &Lookup);
}
nlohmann::json ErrorOf(const Response& response) { return nlohmann::json::parse(response.body)["error"]; }
}  // namespace

TEST_CASE("a JSON body parses") {
  FakeMessage message{"application/json; charset=utf-8"};
  nlohmann::json body;
  auto error = ParseJsonBody(MakeRequest(message, R"({"a": 1})"), body);
  CHECK_FALSE(error.has_value());
  CHECK(body["a"] == 1);
}

TEST_CASE("malformed JSON is a 400 naming the byte") {
  FakeMessage message{"application/json"};
  nlohmann::json body;
  auto error = ParseJsonBody(MakeRequest(message, R"({"a": })"), body);
  REQUIRE(error.has_value());
  CHECK(error->status == 400);
  CHECK(ErrorOf(*error)["code"] == "invalid_json");
  CHECK(ErrorOf(*error)["message"].get<std::string>().find("at byte 7") != std::string::npos);
}

TEST_CASE("an empty body is a 400") {
  FakeMessage message{""};
  nlohmann::json body;
  auto error = ParseJsonBody(MakeRequest(message, ""), body);
  REQUIRE(error.has_value());
  CHECK(error->status == 400);
}

TEST_CASE("text/plain bodies are read as JSON, as fetch() clients send them") {
  FakeMessage message{"text/plain;charset=UTF-8"};
  nlohmann::json body;
  CHECK_FALSE(ParseJsonBody(MakeRequest(message, "{}"), body).has_value());
}

TEST_CASE("a non-JSON content type is a 415") {
  FakeMessage message{"application/x-www-form-urlencoded"};
  nlohmann::json body;
  auto error = ParseJsonBody(MakeRequest(message, "{}"), body);
  REQUIRE(error.has_value());
  CHECK(error->status == 415);
  CHECK(ErrorOf(*error)["code"] == "unsupported_media_type");
}

TEST_CASE("deeply nested JSON is refused before it reaches the recursive parser") {
  FakeMessage message{"application/json"};
  nlohmann::json body;
  std::string deep(100000, '[');
  auto error = ParseJsonBody(MakeRequest(message, deep), body);
  REQUIRE(error.has_value());
  CHECK(error->status == 400);
  CHECK(ErrorOf(*error)["message"].get<std::string>().find("nests deeper than 128") != std::string::npos);
  // Brackets inside strings do not count.
  CHECK(CheckJsonNesting(R"({"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})", 3).ok());
}

TEST_CASE("internal errors do not leak their details") {
  Response response = ErrorResponse(warden::Status::Internal("sqlite: disk I/O error at /var/lib/x"));
  CHECK(response.status == 500);
  CHECK(response.body.find("sqlite") == std::string::npos);
  CHECK(ErrorResponse(warden::Status::NotFound("no object user:bob")).status == 404);
}

TEST_CASE("a full disk is 507 storage_full, a request over a limit 413") {
  CHECK(HttpStatusFor(warden::StatusCode::kStorageFull) == 507);
  CHECK(HttpStatusFor(warden::StatusCode::kResourceExhausted) == 413);
  Response full = ErrorResponse(warden::Status::StorageFull("disk full"));
  CHECK(full.status == 507);
  CHECK(nlohmann::json::parse(full.body)["error"]["code"] == "storage_full");
}
