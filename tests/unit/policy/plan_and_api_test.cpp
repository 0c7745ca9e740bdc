// Query plans, the plan filter evaluator and the Cerbos API codecs.
#include "common/policy/cerbos_api.h"
#include "common/policy/plan_filter.h"
#include "tests/unit/policy/test_helpers.h"

using namespace warden::policy;
using namespace warden::policy::testing;
using nlohmann::json;

namespace {

const char* kDoc = R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: doc
  rules:
    - name: admin
      actions: ["*"]
      effect: EFFECT_ALLOW
      roles: ["admin"]
    - name: own
      actions: ["edit"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: R.attr.owner == P.id
    - name: locked
      actions: ["edit"]
      effect: EFFECT_DENY
      roles: ["*"]
      condition:
        match:
          expr: R.attr.locked == true
)";

}  // namespace

TEST_CASE("plans: always allowed, always denied, conditional with deny rules negated") {
  auto set = MustCompile({{"doc.yaml", kDoc}});
  Resource kind = MakeResource("doc", "");
  CHECK(set->Plan(MakePrincipal("a", {"admin"}), kind, "view").kind == PlanResult::Kind::kAlwaysAllowed);
  CHECK(set->Plan(MakePrincipal("g", {"guest"}), kind, "view").kind == PlanResult::Kind::kAlwaysDenied);
  CHECK(set->Plan(MakePrincipal("g", {"guest"}), MakeResource("other", ""), "view").kind ==
        PlanResult::Kind::kAlwaysDenied);

  const PlanResult p = set->Plan(MakePrincipal("bob", {"user"}), kind, "edit");
  REQUIRE(p.kind == PlanResult::Kind::kConditional);
  const json filter = p.FilterJson();
  CHECK(filter["kind"] == "KIND_CONDITIONAL");
  // The filter means: owner == "bob" and not locked.
  auto admits = [&](json attr) { return *FilterAdmits(filter, {{"id", "x"}, {"attr", attr}}); };
  CHECK(admits({{"owner", "bob"}, {"locked", false}}));
  CHECK_FALSE(admits({{"owner", "bob"}, {"locked", true}}));
  CHECK_FALSE(admits({{"owner", "eve"}, {"locked", false}}));
  // The principal is folded away: the plan names only resource attributes.
  CHECK(filter.dump().find("bob") != std::string::npos);
  CHECK(filter.dump().find("request.principal") == std::string::npos);
  CHECK(filter.dump().find("request.resource.attr.owner") != std::string::npos);
}

TEST_CASE("plans fold away resource attributes the request gives") {
  auto set = MustCompile({{"doc.yaml", kDoc}});
  Resource known = MakeResource("doc", "", {{"owner", "bob"}});
  PlanResult p = set->Plan(MakePrincipal("bob", {"user"}), known, "edit");
  REQUIRE(p.kind == PlanResult::Kind::kConditional);
  const std::string text = p.FilterJson().dump();
  CHECK(text.find("request.resource.attr.owner") == std::string::npos);  // known: folded
  CHECK(text.find("request.resource.attr.locked") != std::string::npos);  // unknown: kept
  known = MakeResource("doc", "", {{"owner", "eve"}});
  CHECK(set->Plan(MakePrincipal("bob", {"user"}), known, "edit").kind == PlanResult::Kind::kAlwaysDenied);
  known = MakeResource("doc", "", {{"owner", "bob"}, {"locked", false}});
  CHECK(set->Plan(MakePrincipal("bob", {"user"}), known, "edit").kind == PlanResult::Kind::kAlwaysAllowed);
}

TEST_CASE("plans see derived roles that depend only on the principal") {
  auto set = MustCompile({{"roles.yaml", R"(apiVersion: api.cerbos.dev/v1
derivedRoles:
  name: r
  definitions:
    - name: staff
      parentRoles: ["user"]
      condition:
        match:
          expr: P.attr.staff == true
)"},
                          {"doc.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  importDerivedRoles: [r]
  rules:
    - actions: ["comment"]
      effect: EFFECT_ALLOW
      roles: ["*"]
      condition:
        match:
          expr: '"staff" in runtime.effectiveDerivedRoles && R.attr.open == true'
)"}});
  const Resource kind = MakeResource("doc", "");
  const PlanResult staff = set->Plan(MakePrincipal("s", {"user"}, {{"staff", true}}), kind, "comment");
  REQUIRE(staff.kind == PlanResult::Kind::kConditional);
  CHECK(staff.FilterJson().dump().find("request.resource.attr.open") != std::string::npos);
  CHECK(set->Plan(MakePrincipal("o", {"user"}, {{"staff", false}}), kind, "comment").kind ==
        PlanResult::Kind::kAlwaysDenied);
}

TEST_CASE("filter evaluator: operators, errors and comprehensions") {
  auto eval = [](const std::string& cond, json attr) {
    return EvaluateFilterCondition(json::parse(cond), {{"attr", attr}});
  };
  auto v = eval(R"({"expression":{"operator":"lt","operands":[{"variable":"request.resource.attr.n"},{"value":3}]}})",
                {{"n", 2.0}});
  CHECK_FALSE(v.error);
  CHECK(v.value == true);
  v = eval(R"({"expression":{"operator":"lt","operands":[{"variable":"request.resource.attr.n"},{"value":3}]}})", json::object());
  CHECK(v.error);
  CHECK(v.message.find("no such key") != std::string::npos);
  // or absorbs an error when another operand is true.
  v = eval(R"({"expression":{"operator":"or","operands":[{"variable":"request.resource.attr.missing"},{"value":true}]}})",
           json::object());
  CHECK_FALSE(v.error);
  CHECK(v.value == true);
  v = eval(R"({"expression":{"operator":"exists","operands":[{"variable":"request.resource.attr.tags"},
      {"expression":{"operator":"lambda","operands":[{"expression":{"operator":"startsWith","operands":[{"variable":"t"},{"value":"team-"}]}},{"variable":"t"}]}}]}})",
           {{"tags", {"x", "team-a"}}});
  CHECK(v.value == true);
  v = eval(R"({"expression":{"operator":"descendentOf","operands":[
      {"expression":{"operator":"hierarchy","operands":[{"variable":"request.resource.attr.p"}]}},
      {"expression":{"operator":"hierarchy","operands":[{"value":"a.b"}]}}]}})",
           {{"p", "a.b.c"}});
  CHECK(v.value == true);
  v = eval(R"({"expression":{"operator":"frobnicate","operands":[]}})", json::object());
  CHECK(v.error);
  CHECK_FALSE(FilterAdmits(json{{"kind", "KIND_WHATEVER"}}, json::object()).ok());
}

TEST_CASE("CheckResources request parsing names the bad field") {
  auto bad = [](const std::string& body) {
    auto r = ParseCheckResourcesRequest(json::parse(body));
    REQUIRE_FALSE(r.ok());
    return r.status().message();
  };
  const std::string principal = R"("principal": {"id": "a", "roles": ["user"]})";
  CHECK(bad("[]") == "request body must be a JSON object");
  CHECK(bad(R"({"resources": []})") == "principal: is required");
  CHECK(bad(R"({"principal": {"id": "a", "roles": []}, "resources": []})") ==
        "principal.roles: must be a non-empty list of strings");
  CHECK(bad("{" + principal + R"(, "resources": {}})") == "resources: must be a non-empty list");
  CHECK(bad("{" + principal + R"(, "resources": [{"actions": ["v"], "resource": {"kind": "k", "id": "1"}},
        {"actions": [], "resource": {"kind": "k", "id": "2"}}]})") ==
        "resources[1].actions: must be a non-empty list of strings");
  CHECK(bad("{" + principal + R"(, "resources": [{"actions": ["v"], "resource": {"id": "1"}}]})") ==
        "resources[0].resource.kind: is required");
  CHECK(bad("{" + principal + R"(, "resources": [{"actions": ["v"], "resource": {"kind": "k", "id": "1", "attr": 5}}]})") ==
        "resources[0].resource.attr: must be an object");
  CHECK(bad("{" + principal + R"(, "resources": [{"actions": ["v"], "resource": {"kind": "k", "id": "1", "scope": "a..b"}}]})") ==
        "resources[0].resource.scope: 'a..b' is not a valid scope (dot-separated names)");
}

TEST_CASE("CheckResources response shape with meta and outputs") {
  auto set = MustCompile({{"doc.yaml", kDoc}});
  auto req = ParseCheckResourcesRequest(json::parse(R"({
    "requestId": "r1", "includeMeta": true,
    "principal": {"id": "bob", "roles": ["user"]},
    "resources": [{"actions": ["edit", "view"], "resource": {"kind": "doc", "id": "d1", "attr": {"owner": "bob"}}}]})"));
  REQUIRE(req.ok());
  const json out = CheckResources(*set, *req);
  CHECK(out["requestId"] == "r1");
  const json& r = out["results"][0];
  CHECK(r["resource"] == json({{"id", "d1"}, {"kind", "doc"}, {"policyVersion", "default"}, {"scope", ""}}));
  CHECK(r["actions"]["edit"] == "EFFECT_ALLOW");
  CHECK(r["actions"]["view"] == "EFFECT_DENY");
  CHECK(r["meta"]["actions"]["edit"]["matchedPolicy"] == "resource.doc.vdefault");
  CHECK(r["meta"]["actions"]["edit"]["matchedScope"] == "");
  CHECK(r["meta"]["effectiveDerivedRoles"] == json::array());
}

TEST_CASE("CheckResources response written directly is the tree's text, byte for byte") {
  const char* roles = R"(apiVersion: api.cerbos.dev/v1
derivedRoles:
  name: doc_roles
  definitions:
    - name: owner
      parentRoles: ["user"]
      condition:
        match:
          expr: R.attr.owner == P.id
)";
  const char* scoped = R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: note
  importDerivedRoles: [doc_roles]
  rules:
    - name: read
      actions: ["read", "zeta", "alpha"]
      effect: EFFECT_ALLOW
      derivedRoles: ["owner"]
      output:
        when:
          ruleActivated: '{"who": P.id, "n": 5.0, "list": [1, 2.5]}'
    - name: broken-output
      actions: ["alpha"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      output:
        when:
          ruleActivated: 'R.attr.missing'
    - name: frozen
      actions: ["read"]
      effect: EFFECT_DENY
      roles: ["*"]
      condition:
        match:
          expr: R.attr.frozen == true
      output:
        when:
          conditionNotMet: '"not frozen: \"" + R.id'
)";
  auto set = MustCompile({{"doc.yaml", kDoc}, {"roles.yaml", roles}, {"note.yaml", scoped}});
  for (bool include_meta : {false, true}) {
    CAPTURE(include_meta);
    auto req = ParseCheckResourcesRequest(json::parse(std::string(R"({"requestId": "r\"1\u00e9",)") +
        (include_meta ? R"("includeMeta": true,)" : "") + R"(
      "principal": {"id": "bob", "roles": ["user"]},
      "resources": [
        {"actions": ["edit", "view", "edit"], "resource": {"kind": "doc", "id": "d1", "attr": {"owner": "bob"}}},
        {"actions": ["zeta", "read", "alpha"], "resource": {"kind": "note", "id": "n\t1", "policyVersion": "default",
                                                            "scope": ".", "attr": {"owner": "bob"}}},
        {"actions": ["read"], "resource": {"kind": "note", "id": "n2", "attr": {"owner": "ann", "frozen": true}}},
        {"actions": ["x"], "resource": {"kind": "album", "id": "a1"}}]})"));
    REQUIRE(req.ok());
    std::vector<Decision> decisions = DecideCheckResources(*set, *req);
    std::string direct;
    AppendCheckResourcesResponse(direct, *req, decisions);
    const std::string tree = RenderCheckResourcesResponse(*req, decisions).dump();
    CHECK(direct == tree);
    // What the tree holds is what was decided (so the comparison above compares real answers).
    const json parsed = json::parse(direct);
    CHECK(parsed["results"][0]["actions"] == json({{"edit", "EFFECT_ALLOW"}, {"view", "EFFECT_DENY"}}));
    CHECK(parsed["results"][1]["actions"]["alpha"] == "EFFECT_ALLOW");
    CHECK(parsed["results"][1].contains("outputs"));
    CHECK(direct.find(R"("error":)") != std::string::npos);  // an output that failed
    CHECK(parsed["results"][2]["actions"]["read"] == "EFFECT_DENY");
    CHECK(parsed["results"][3]["resource"]["kind"] == "album");
    CHECK(parsed["results"][0].contains("meta") == include_meta);
  }
}

TEST_CASE("repeated actions are removed, each keeping its first place, in short lists and long") {
  std::vector<std::string> few = {"b", "a", "b", "c", "a"};
  RemoveRepeatedActions(few);
  CHECK(few == std::vector<std::string>{"b", "a", "c"});
  // Past the linear search's reach, with names too long for the short-string buffer as well.
  std::vector<std::string> many;
  for (int i = 0; i < 40; ++i) many.push_back((i % 25 % 2 ? "a" : "an-action-name-longer-than-sso-") + std::to_string(i % 25));
  RemoveRepeatedActions(many);
  REQUIRE(many.size() == 25);
  CHECK(many[0] == "an-action-name-longer-than-sso-0");
  CHECK(many[1] == "a1");
  CHECK(many[24] == "an-action-name-longer-than-sso-24");
}

TEST_CASE("PlanResources request and response") {
  auto set = MustCompile({{"doc.yaml", kDoc}});
  auto bad = ParsePlanResourcesRequest(json::parse(R"({"principal": {"id": "a", "roles": ["user"]}, "resource": {"kind": "doc"}})"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "action: is required");
  bad = ParsePlanResourcesRequest(json::parse(R"({"action": "edit", "principal": {"id": "a", "roles": ["user"]}, "resource": {}})"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() == "resource.kind: is required");

  auto req = ParsePlanResourcesRequest(json::parse(R"({"requestId": "p1", "action": "view",
      "principal": {"id": "a", "roles": ["admin"]}, "resource": {"kind": "doc", "policyVersion": "default"}})"));
  REQUIRE(req.ok());
  const json out = PlanResources(*set, *req);
  CHECK(out["requestId"] == "p1");
  CHECK(out["action"] == "view");
  CHECK(out["resourceKind"] == "doc");
  CHECK(out["policyVersion"] == "default");
  CHECK(out["filter"] == json({{"kind", "KIND_ALWAYS_ALLOWED"}}));
}
