// ResponseHead writes what Beast's serializer would: the server swapped one for the other on the
// hot path, so every shape of response it answers with is compared byte for byte.
#include "common/http/response_head.h"

#include <doctest/doctest.h>

#include <sstream>

#include <boost/beast/http.hpp>

namespace bhttp = boost::beast::http;
using warden::http::Response;
using warden::http::ResponseHead;

namespace {

std::string BeastHead(const Response& response, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(response.status), version};
  out.set(bhttp::field::server, "warden");
  out.set(bhttp::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) out.set(name, value);
  out.body() = response.body;
  out.keep_alive(keep_alive);
  out.prepare_payload();
  std::ostringstream text;
  text << out.base();
  return text.str();
}

}  // namespace

TEST_CASE("the head matches Beast's for every status, version and keep-alive") {
  for (unsigned status : {200u, 201u, 400u, 401u, 404u, 413u, 431u, 500u, 503u, 599u}) {
    for (unsigned version : {10u, 11u}) {
      for (bool keep_alive : {true, false}) {
        Response response;
        response.status = status;
        response.body = R"({"decision":true})";
        response.with_header("Warden-Revision", "42").with_header("X-Request-ID", "abc");
        CAPTURE(status);
        CAPTURE(version);
        CAPTURE(keep_alive);
        CHECK(ResponseHead(response, version, keep_alive, "warden", response.body.size()) ==
              BeastHead(response, version, keep_alive));
      }
    }
  }
}

TEST_CASE("bodiless statuses carry no Content-Length and a repeated header replaces the earlier") {
  Response not_modified;
  not_modified.status = 304;
  not_modified.with_header("ETag", "\"s-1\"");
  // Beast writes "Content-Length: 0" here; RFC 9110 forbids it on 204 and it would misstate a 304's
  // representation, so the head leaves it out and is otherwise Beast's.
  std::string expected = BeastHead(not_modified, 11, true);
  expected.erase(expected.find("Content-Length: 0\r\n"), 19);
  CHECK(ResponseHead(not_modified, 11, true, "warden", 0) == expected);
  not_modified.status = 204;
  CHECK(ResponseHead(not_modified, 11, true, "warden", 0).find("Content-Length") == std::string::npos);

  Response repeated;
  repeated.content_type = "text/plain";
  repeated.body.assign(2, 'k');
  repeated.with_header("Allow", "GET").with_header("content-type", "application/x-ndjson").with_header("allow", "POST");
  CHECK(ResponseHead(repeated, 11, true, "warden", 2) == BeastHead(repeated, 11, true));
}

TEST_CASE("a HEAD answer gives the GET's length without the body") {
  Response response;
  response.body = std::string(1234, 'x');
  std::string head = ResponseHead(response, 11, true, "warden", response.body.size());
  CHECK(head.find("Content-Length: 1234\r\n") != std::string::npos);
  CHECK(head.size() >= 4);
  CHECK(head.substr(head.size() - 4) == "\r\n\r\n");
}
