// The CheckResources request scanner: what it takes it reads as the general path does, and what
// it is not sure of it leaves to the general path.
#include "common/policy/cerbos_request_scan.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tests/fuzz/cerbos_same_request.h"

using namespace warden::policy;

namespace {

// The general path's reading of `body`, which must accept it.
CheckResourcesRequest General(const std::string& body) {
  auto parsed = ParseCheckResourcesRequest(nlohmann::json::parse(body));
  REQUIRE(parsed.ok());
  return *parsed;
}

const std::string kPrincipal = R"("principal": {"id": "p", "roles": ["r"]})";

std::string WithResource(const std::string& resource) {
  return "{" + kPrincipal + R"(, "resources": [{"actions": ["a"], "resource": )" + resource + "}]}";
}

}  // namespace

TEST_CASE("the scanner reads what the general path reads") {
  const std::string bodies[] = {
      // A request from the Cerbos corpus, as the bench sends it.
      R"({"requestId": "c6", "principal": {"id": "carol", "roles": ["manager", "auditor", "viewer"], "attr": {"department": "marketing", "region": "EMEA", "groups": []}}, "resources": [{"actions": ["create"], "resource": {"kind": "expense", "id": "exp6_0", "attr": {"ownerId": "carol", "department": "marketing", "region": "US", "amount": 2500, "status": "DRAFT", "frozen": false}}}]})",
      // Keys in any order, whitespace everywhere, repeated actions, every optional field.
      " \n{ \"resources\" : [ { \"resource\" : { \"scope\" : \"\" , \"policyVersion\" : \"v2\" , \"id\" : \"i\" , "
      "\"kind\" : \"k\" } , \"actions\" : [ \"b\" , \"a\" , \"b\" ] } , {\"actions\":[\"x\"],\"resource\":{\"kind\":\"k\","
      "\"id\":\"j\"}} ] , \"includeMeta\" : true , \"principal\" : { \"scope\" : \"\" , \"attr\" : { } , \"policyVersion\" : "
      "\"\" , \"roles\" : [ \"r\" , \"r\" ] , \"id\" : \"p\" } , \"requestId\" : \"\" }\t",
      // Numbers as cel::FromJson sees them: all doubles, an integer minus zero as +0.
      WithResource(R"({"kind": "k", "id": "i", "attr": {"z": -0, "zf": -0.0, "i": -42, "f": 2.5e3, "e": 1E-2,
                      "big": 123456789012345678901234567890, "u": 18446744073709551615, "p": 0.1}})"),
      // Nested values, keys out of order (the map takes nlohmann's order), null and booleans.
      WithResource(R"({"kind": "k", "id": "i", "attr": {"b": [1, [null, true], {"y": "v", "x": []}], "a": {}, "c": false}})"),
      R"({"includeMeta": false, )" + kPrincipal + R"(, "resources": [{"resource": {"kind": "k", "id": "i"}, "actions": ["a"]}]})",
  };
  for (const std::string& body : bodies) {
    CAPTURE(body);
    CheckResourcesRequest scanned;
    REQUIRE(ScanCheckResourcesRequest(body, 128, scanned));
    CHECK(warden::fuzz::SameRequest(scanned, General(body)));
  }
  // What the comparison compares: a request the scanner read, field by field.
  CheckResourcesRequest scanned;
  REQUIRE(ScanCheckResourcesRequest(bodies[1], 128, scanned));
  CHECK(scanned.include_meta);
  CHECK(scanned.resources[0].actions == std::vector<std::string>{"b", "a"});
  CHECK(scanned.resources[0].resource.policy_version == "v2");
  CHECK(scanned.principal.roles == std::vector<std::string>{"r", "r"});
  REQUIRE(ScanCheckResourcesRequest(bodies[2], 128, scanned));
  CHECK(scanned.resources[0].resource.attr.DebugString().find("\"z\": 0") != std::string::npos);
}

TEST_CASE("the scanner leaves to the general path what it is not sure of") {
  const std::string bodies[] = {
      "",
      "[]",
      "{}",
      "{" + kPrincipal + R"(, "resources": []})",
      "{" + kPrincipal + "}",
      R"({"principal": {"id": "p", "roles": []}, "resources": [{"actions": ["a"], "resource": {"kind": "k", "id": "i"}}]})",
      R"({"principal": {"id": "", "roles": ["r"]}, "resources": [{"actions": ["a"], "resource": {"kind": "k", "id": "i"}}]})",
      "{" + kPrincipal + R"(, "resources": [{"actions": [], "resource": {"kind": "k", "id": "i"}}]})",
      "{" + kPrincipal + R"(, "resources": [{"actions": [""], "resource": {"kind": "k", "id": "i"}}]})",
      "{" + kPrincipal + R"(, "resources": [{"actions": ["a"]}]})",
      "{" + kPrincipal + R"(, "auxData": {"jwt": {"token": "t"}}, "resources": [{"actions": ["a"], "resource": {"kind": "k", "id": "i"}}]})",
      "{" + kPrincipal + R"(, "extra": 1, "resources": [{"actions": ["a"], "resource": {"kind": "k", "id": "i"}}]})",
      "{" + kPrincipal + ", " + kPrincipal + R"(, "resources": [{"actions": ["a"], "resource": {"kind": "k", "id": "i"}}]})",
      R"({"requestId": null, )" + kPrincipal + R"(, "resources": [{"actions": ["a"], "resource": {"kind": "k", "id": "i"}}]})",
      WithResource(R"({"kind": "k", "id": "i", "scope": "acme"})"),
      WithResource(R"({"kind": "k", "id": "i", "attr": null})"),
      WithResource(R"({"kind": "k", "id": "i", "attr": {"x": 1, "x": 2}})"),
      WithResource(R"({"kind": "k", "id": "i\n"})"),
      WithResource(R"({"kind": "k", "id": "i\u0041"})"),
      WithResource("{\"kind\": \"k\", \"id\": \"z\xC3\xAB\"}"),
      WithResource(R"({"kind": "k", "id": "i", "attr": {"n": 01}})"),
      WithResource(R"({"kind": "k", "id": "i", "attr": {"n": 1.}})"),
      WithResource(R"({"kind": "k", "id": "i", "attr": {"n": 1e999}})"),
      WithResource(R"({"kind": "k", "id": "i", "attr": {"n": tru}})"),
      WithResource(R"({"kind": "k", "id": "i"})") + " x",
      WithResource(R"({"kind": "k", "id": "i", "attr": {"a": [1, 2,]}})"),
  };
  for (const std::string& body : bodies) {
    CAPTURE(body);
    CheckResourcesRequest scanned;
    CHECK_FALSE(ScanCheckResourcesRequest(body, 128, scanned));
  }
}

TEST_CASE("the scanner keeps to the depth it is given") {
  std::string nested = "1";
  for (int i = 0; i < 10; ++i) nested = "[" + nested + "]";
  const std::string body = WithResource(R"({"kind": "k", "id": "i", "attr": {"n": )" + nested + "}}");
  CheckResourcesRequest scanned;
  CHECK_FALSE(ScanCheckResourcesRequest(body, 14, scanned));
  // The top object, resources, the entry, the resource, attr: 5, and the 10 arrays.
  REQUIRE(ScanCheckResourcesRequest(body, 15, scanned));
  CHECK(warden::fuzz::SameRequest(scanned, General(body)));
}
