// Decisions: one behaviour per case, as Cerbos 0.55 documents and answers them.
#include "common/policy/compiled.h"
#include "tests/unit/policy/test_helpers.h"

using namespace warden::policy;
using namespace warden::policy::testing;
using nlohmann::json;

namespace {

const char* kExpense = R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: expense
  importDerivedRoles: [expense_roles]
  constants:
    local:
      limit: 1000
  variables:
    local:
      is_open: R.attr.status == "OPEN"
  rules:
    - name: admin-all
      actions: ["*"]
      effect: EFFECT_ALLOW
      roles: ["admin"]
    - name: view
      actions: ["view", "view:*"]
      effect: EFFECT_ALLOW
      derivedRoles: ["owner"]
    - name: edit-open
      actions: ["edit"]
      effect: EFFECT_ALLOW
      derivedRoles: ["owner"]
      condition:
        match:
          all:
            of:
              - expr: V.is_open
              - expr: R.attr.amount < C.limit
    - name: frozen
      actions: ["edit", "view:*"]
      effect: EFFECT_DENY
      roles: ["*"]
      condition:
        match:
          expr: R.attr.frozen == true
      output:
        when:
          ruleActivated: '"frozen:" + R.id'
    - name: audit
      actions: ["audit"]
      effect: EFFECT_ALLOW
      roles: ["auditor"]
      condition:
        match:
          none:
            of:
              - expr: R.attr.amount > 5000
      output:
        when:
          conditionNotMet: '{"too_big": R.attr.amount}'
)";

const char* kRoles = R"(apiVersion: api.cerbos.dev/v1
derivedRoles:
  name: expense_roles
  definitions:
    - name: owner
      parentRoles: ["user"]
      condition:
        match:
          expr: R.attr.owner == P.id
)";

std::shared_ptr<const PolicySet> Expense() { return MustCompile({{"roles.yaml", kRoles}, {"expense.yaml", kExpense}}); }

}  // namespace

TEST_CASE("glob matching of actions, roles and kinds") {
  CHECK(GlobMatch("*", "a:b:c"));
  CHECK(GlobMatch("view:*", "view:detail"));
  CHECK_FALSE(GlobMatch("view:*", "view:a:b"));
  CHECK_FALSE(GlobMatch("view:*", "view"));
  CHECK(GlobMatch("view:**", "view:a:b"));
  CHECK(GlobMatch("a?c", "abc"));
  CHECK_FALSE(GlobMatch("a?c", "a:c"));
  CHECK(GlobMatch("GET /api/users", "GET /api/users"));
  CHECK_FALSE(GlobMatch("GET /api/users", "GET /api/user"));
}

TEST_CASE("role rules allow, unknown roles and actions fall to default deny") {
  auto set = Expense();
  const auto admin = MakePrincipal("ann", {"admin"});
  const auto guest = MakePrincipal("gus", {"guest"});
  const auto r = MakeResource("expense", "e1", {{"owner", "bob"}});
  CHECK(EffectOf(*set, admin, r, "anything:at:all") == "ALLOW");
  CHECK(EffectOf(*set, guest, r, "view") == "DENY");
  std::vector<std::string> actions = {"view"};
  Decision d = set->Decide(guest, r, actions);
  CHECK(d.actions[0].matched == Matched::kResource);  // a policy exists but no rule matched
  CHECK(d.actions[0].rule == nullptr);
  CHECK(MatchedPolicy(d.actions[0], guest, r) == "resource.expense.vdefault");
  // A kind no policy covers at all: NO_MATCH.
  d = set->Decide(admin, MakeResource("album", "a1"), actions);
  CHECK(d.actions[0].effect == Effect::kDeny);
  CHECK(MatchedPolicy(d.actions[0], admin, MakeResource("album", "a1")) == "NO_MATCH");
}

TEST_CASE("derived roles need both a parent role and their condition") {
  auto set = Expense();
  const auto bob = MakePrincipal("bob", {"user"});
  CHECK(EffectOf(*set, bob, MakeResource("expense", "e1", {{"owner", "bob"}}), "view") == "ALLOW");
  CHECK(EffectOf(*set, bob, MakeResource("expense", "e1", {{"owner", "ann"}}), "view") == "DENY");
  CHECK(EffectOf(*set, MakePrincipal("bob", {"manager"}), MakeResource("expense", "e1", {{"owner", "bob"}}), "view") ==
        "DENY");
  std::vector<std::string> actions = {"view"};
  DecideOptions with_roles;
  with_roles.effective_derived_roles = true;
  const Resource bobs = MakeResource("expense", "e1", {{"owner", "bob"}});
  Decision d = set->Decide(bob, bobs, actions, with_roles);
  REQUIRE(d.effective_derived_roles.size() == 1);
  CHECK(d.effective_derived_roles[0] == "owner");
  CHECK(RuleName(d.actions[0]) == "view");
  CHECK(RuleFile(d.actions[0]) == "expense.yaml");
}

TEST_CASE("variables and constants in conditions; a failing condition does not hold") {
  auto set = Expense();
  const auto bob = MakePrincipal("bob", {"user"});
  CHECK(EffectOf(*set, bob, MakeResource("expense", "e", {{"owner", "bob"}, {"status", "OPEN"}, {"amount", 10}}), "edit") ==
        "ALLOW");
  CHECK(EffectOf(*set, bob, MakeResource("expense", "e", {{"owner", "bob"}, {"status", "OPEN"}, {"amount", 5000}}),
                 "edit") == "DENY");
  CHECK(EffectOf(*set, bob, MakeResource("expense", "e", {{"owner", "bob"}, {"status", "CLOSED"}, {"amount", 10}}),
                 "edit") == "DENY");
  // Missing attribute: the condition errors, so it does not hold.
  CHECK(EffectOf(*set, bob, MakeResource("expense", "e", {{"owner", "bob"}, {"status", "OPEN"}}), "edit") == "DENY");
}

TEST_CASE("deny overrides allow, and an erroring deny condition does not deny") {
  auto set = Expense();
  const auto admin = MakePrincipal("ann", {"admin"});
  CHECK(EffectOf(*set, admin, MakeResource("expense", "e", {{"frozen", true}}), "edit") == "DENY");
  CHECK(EffectOf(*set, admin, MakeResource("expense", "e", {{"frozen", false}}), "edit") == "ALLOW");
  CHECK(EffectOf(*set, admin, MakeResource("expense", "e"), "edit") == "ALLOW");  // frozen missing
  // view:* rules do not cover "view" itself: the frozen deny does not apply to it.
  CHECK(EffectOf(*set, MakePrincipal("bob", {"user"}), MakeResource("expense", "e", {{"owner", "bob"}, {"frozen", true}}),
                 "view") == "ALLOW");
  CHECK(EffectOf(*set, MakePrincipal("bob", {"user"}), MakeResource("expense", "e", {{"owner", "bob"}, {"frozen", true}}),
                 "view:receipt") == "DENY");
}

TEST_CASE("outputs: ruleActivated when a rule fires, conditionNotMet when it does not") {
  auto set = Expense();
  std::vector<std::string> actions = {"edit", "audit"};
  // Roles are evaluated in order and the first allowing role ends the walk, so "auditor" goes first.
  Decision d = set->Decide(MakePrincipal("ann", {"auditor", "admin"}),
                           MakeResource("expense", "e9", {{"frozen", true}, {"amount", 9000}}), actions);
  CHECK(d.Find("edit")->effect == Effect::kDeny);
  bool frozen = false, too_big = false;
  for (const auto& o : d.outputs) {
    if (o.src == "resource.expense.vdefault#frozen" && o.action == "edit") {
      frozen = warden::cel::ToJson(o.value) == json("frozen:e9");
    }
    if (o.src == "resource.expense.vdefault#audit" && o.action == "audit") {
      too_big = warden::cel::ToJson(o.value) == json({{"too_big", 9000.0}});
    }
  }
  CHECK(frozen);
  CHECK(too_big);
}

TEST_CASE("principal policies decide before resource policies") {
  auto set = MustCompile({{"roles.yaml", kRoles},
                          {"expense.yaml", kExpense},
                          {"daffy.yaml", R"(apiVersion: api.cerbos.dev/v1
principalPolicy:
  principal: daffy
  version: default
  rules:
    - resource: expense
      actions:
        - name: never-edit
          action: edit
          effect: EFFECT_DENY
        - name: may-approve
          action: approve
          effect: EFFECT_ALLOW
          condition:
            match:
              expr: R.attr.amount < 100
    - resource: "*"
      actions:
        - name: purge-all
          action: purge
          effect: EFFECT_ALLOW
)"}});
  const auto daffy = MakePrincipal("daffy", {"admin"});
  CHECK(EffectOf(*set, daffy, MakeResource("expense", "e"), "edit") == "DENY");  // beats admin-all
  CHECK(EffectOf(*set, daffy, MakeResource("expense", "e", {{"amount", 50}}), "approve") == "ALLOW");
  CHECK(EffectOf(*set, daffy, MakeResource("expense", "e", {{"amount", 500}}), "approve") == "ALLOW");  // admin-all
  CHECK(EffectOf(*set, MakePrincipal("daffy", {"guest"}), MakeResource("expense", "e", {{"amount", 500}}), "approve") ==
        "DENY");
  CHECK(EffectOf(*set, MakePrincipal("daffy", {"guest"}), MakeResource("widget", "w"), "purge") == "ALLOW");
  std::vector<std::string> actions = {"edit"};
  Decision d = set->Decide(daffy, MakeResource("expense", "e"), actions);
  CHECK(d.actions[0].matched == Matched::kPrincipal);
  CHECK(RuleName(d.actions[0]) == "never-edit");
}

TEST_CASE("scopes: most specific first, override-parent and parental consent") {
  const std::string root = R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  rules:
    - name: view
      actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
    - name: no-edit
      actions: ["edit"]
      effect: EFFECT_DENY
      roles: ["user"]
)";
  auto set = MustCompile({{"doc.yaml", root},
                          {"doc_acme.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  scope: acme
  scopePermissions: SCOPE_PERMISSIONS_OVERRIDE_PARENT
  rules:
    - name: acme-edit
      actions: ["edit"]
      effect: EFFECT_ALLOW
      roles: ["user"]
)"},
                          {"doc_beta.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  scope: beta
  scopePermissions: SCOPE_PERMISSIONS_REQUIRE_PARENTAL_CONSENT_FOR_ALLOWS
  rules:
    - name: beta-view-public
      actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: R.attr.public == true
    - name: beta-edit
      actions: ["edit"]
      effect: EFFECT_ALLOW
      roles: ["user"]
)"}});
  const auto user = MakePrincipal("u", {"user"});
  auto in = [](std::string scope, json attr = json::object()) {
    Resource r = MakeResource("doc", "d", attr);
    r.scope = std::move(scope);
    return r;
  };
  CHECK(EffectOf(*set, user, in(""), "edit") == "DENY");
  CHECK(EffectOf(*set, user, in("acme"), "edit") == "ALLOW");      // child allow overrides parent deny
  CHECK(EffectOf(*set, user, in("acme"), "view") == "ALLOW");      // falls through to the parent
  CHECK(EffectOf(*set, user, in("acme.unknown"), "view") == "DENY");  // a scope no policy uses
  CHECK(EffectOf(*set, user, in("."), "view") == "ALLOW");           // "." is the root
  // Parental consent: the child's allow needs the parent's too.
  CHECK(EffectOf(*set, user, in("beta"), "edit") == "DENY");
  CHECK(EffectOf(*set, user, in("beta", {{"public", true}}), "view") == "ALLOW");
  CHECK(EffectOf(*set, user, in("beta", {{"public", false}}), "view") == "DENY");  // the condition acts as a deny
  std::vector<std::string> actions = {"edit"};
  const Resource acme = in("acme");  // a Decision views the request: keep it alive
  Decision d = set->Decide(user, acme, actions);
  CHECK(d.actions[0].decided_scope == "acme");
  CHECK(MatchedPolicy(d.actions[0], user, acme) == "resource.doc.vdefault/acme");
}

TEST_CASE("policy versions select resource policies") {
  auto set = MustCompile({{"a.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy: {resource: rep, version: default, rules: [{actions: [view], effect: EFFECT_ALLOW, roles: [a]}]}
)"},
                          {"b.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy: {resource: rep, version: "2", rules: [{actions: [view], effect: EFFECT_DENY, roles: [a]}]}
)"}});
  Resource r = MakeResource("rep", "r");
  const auto a = MakePrincipal("p", {"a"});
  CHECK(EffectOf(*set, a, r, "view") == "ALLOW");
  r.policy_version = "2";
  CHECK(EffectOf(*set, a, r, "view") == "DENY");
  r.policy_version = "3";
  CHECK(EffectOf(*set, a, r, "view") == "DENY");
}

TEST_CASE("a reused Decision keeps its capacity and is reset between calls") {
  auto set = Expense();
  Decision d;
  std::vector<std::string> two = {"view", "edit"};
  set->Decide(MakePrincipal("ann", {"admin"}), MakeResource("expense", "e"), two, {}, d);
  CHECK(d.actions.size() == 2);
  std::vector<std::string> one = {"view"};
  set->Decide(MakePrincipal("gus", {"guest"}), MakeResource("expense", "e"), one, {}, d);
  REQUIRE(d.actions.size() == 1);
  CHECK(d.actions[0].effect == Effect::kDeny);
  CHECK(d.outputs.empty());
}

TEST_CASE("ActionsOf lists the action names rules spell out for a kind") {
  auto set = MustCompile({{"roles.yaml", kRoles},
                          {"expense.yaml", kExpense},
                          {"p.yaml", R"(apiVersion: api.cerbos.dev/v1
principalPolicy:
  principal: daffy
  version: default
  rules:
    - resource: "*"
      actions:
        - {action: purge, effect: EFFECT_ALLOW}
)"}});
  CHECK(set->ActionsOf("expense") == std::vector<std::string>{"audit", "edit", "purge", "view"});
  CHECK(set->ActionsOf("widget") == std::vector<std::string>{"purge"});
}
