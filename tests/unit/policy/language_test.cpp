// Corners of the policy language: spellings, imports, globals, auxData, JSON and multi-document
// files, the older output form.
#include "tests/unit/policy/test_helpers.h"

using namespace warden;
using namespace warden::policy;
using namespace warden::policy::testing;
using nlohmann::json;

TEST_CASE("long and short spellings, imported variables and constants, globals and auxData") {
  std::vector<SourceDocument> docs = {
      {"exports.yaml", R"(apiVersion: api.cerbos.dev/v1
exportVariables:
  name: shared_vars
  definitions:
    same_team: request.resource.attr.team == request.principal.attr.team
---
apiVersion: api.cerbos.dev/v1
exportConstants:
  name: shared_consts
  definitions:
    max: 10
    regions: ["eu", "us"]
)"},
      {"doc.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  variables:
    import: [shared_vars]
    local:
      small: R.attr.size <= constants.max
  constants:
    import: [shared_consts]
  rules:
    - name: team
      actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          all:
            of:
              - expr: variables.same_team && V.small
              - expr: P.attr.region in C.regions
    - name: global-flag
      actions: ["debug"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: G.debug == true && globals.debug
    - name: aux
      actions: ["aux"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: request.auxData.tenant == "t1"
      output:
        expr: '"aux:" + request.auxData.tenant'
)"}};
  CompileSetOptions options;
  options.globals = cel::FromJson({{"debug", true}});
  auto compiled = PolicySet::Compile(docs, options);
  INFO(compiled.status().message());
  REQUIRE(compiled.ok());
  const auto& set = **compiled;
  const Principal p = MakePrincipal("u", {"user"}, {{"team", "a"}, {"region", "eu"}});
  CHECK(EffectOf(set, p, MakeResource("doc", "d", {{"team", "a"}, {"size", 3}}), "view") == "ALLOW");
  CHECK(EffectOf(set, p, MakeResource("doc", "d", {{"team", "b"}, {"size", 3}}), "view") == "DENY");
  CHECK(EffectOf(set, p, MakeResource("doc", "d", {{"team", "a"}, {"size", 30}}), "view") == "DENY");
  CHECK(EffectOf(set, p, MakeResource("doc", "d"), "debug") == "ALLOW");

  DecideOptions aux;
  aux.aux_data = cel::FromJson({{"tenant", "t1"}});
  const Resource r = MakeResource("doc", "d");
  const std::vector<std::string> actions = {"aux"};
  Decision d = set.Decide(p, r, actions, aux);
  CHECK(d.actions[0].effect == Effect::kAllow);
  REQUIRE(d.outputs.size() == 1);
  CHECK(cel::ToJson(d.outputs[0].value) == json("aux:t1"));
  CHECK(set.Decide(p, r, actions).actions[0].effect == Effect::kDeny);
}

TEST_CASE("JSON policy files load like YAML ones") {
  auto set = MustCompile({{"route.json", R"({
    "apiVersion": "api.cerbos.dev/v1",
    "resourcePolicy": {
      "resource": "route", "version": "default",
      "rules": [{"name": "get", "actions": ["GET /api/users"], "effect": "EFFECT_ALLOW", "roles": ["viewer"],
                 "condition": {"match": {"expr": "P.attr.enabled == true"}}}]}})"}});
  CHECK(EffectOf(*set, MakePrincipal("v", {"viewer"}, {{"enabled", true}}), MakeResource("route", "r"), "GET /api/users") ==
        "ALLOW");
  CHECK(EffectOf(*set, MakePrincipal("v", {"viewer"}, {{"enabled", false}}), MakeResource("route", "r"),
                 "GET /api/users") == "DENY");
}

TEST_CASE("principal policy outputs name the principal policy, with its scope") {
  auto set = MustCompile({{"p.yaml", R"(apiVersion: api.cerbos.dev/v1
principalPolicy:
  principal: dana
  version: default
  rules:
    - resource: asset
      actions:
        - name: no-approve
          action: approve
          effect: EFFECT_DENY
          output:
            when:
              ruleActivated: '"blocked:" + R.id'
)"}});
  const Principal dana = MakePrincipal("dana", {"viewer"});
  const Resource r = MakeResource("asset", "a7");
  const std::vector<std::string> actions = {"approve"};
  Decision d = set->Decide(dana, r, actions);
  CHECK(d.actions[0].effect == Effect::kDeny);
  CHECK(MatchedPolicy(d.actions[0], dana, r) == "principal.dana.vdefault");
  REQUIRE(d.outputs.size() == 1);
  CHECK(d.outputs[0].src == "principal.dana.vdefault#no-approve");
  CHECK(cel::ToJson(d.outputs[0].value) == json("blocked:a7"));
}

TEST_CASE("variables referring to each other, and cycles") {
  auto set = MustCompile({{"doc.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  variables:
    local:
      a: R.attr.n > 1
      b: V.a && R.attr.n < 5
  rules:
    - actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: V.b
)"}});
  CHECK(EffectOf(*set, MakePrincipal("u", {"user"}), MakeResource("doc", "d", {{"n", 3}}), "view") == "ALLOW");
  CHECK(EffectOf(*set, MakePrincipal("u", {"user"}), MakeResource("doc", "d", {{"n", 7}}), "view") == "DENY");

  const auto errors = CompileErrors({{"doc.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  variables:
    local:
      a: V.b
      b: V.a
  rules:
    - actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: V.a
)"}});
  REQUIRE_FALSE(errors.empty());
  CHECK(errors[0].message.find("refers to itself") != std::string::npos);
  CHECK(errors[0].line == 15);
}
