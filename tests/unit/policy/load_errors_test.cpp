// Loading is all-or-nothing and every malformed input is named with file, line, column, reason.
#include <algorithm>

#include "tests/unit/policy/test_helpers.h"

using namespace warden::policy;
using namespace warden::policy::testing;

namespace {

bool HasError(const std::vector<LoadError>& errors, const std::string& file, int line, int column,
              const std::string& fragment) {
  return std::any_of(errors.begin(), errors.end(), [&](const LoadError& e) {
    return e.file == file && (line == 0 || e.line == line) && (column == 0 || e.column == column) &&
           e.message.find(fragment) != std::string::npos;
  });
}

std::string Dump(const std::vector<LoadError>& errors) { return FormatLoadErrors(errors); }

const char* kDerived = R"(apiVersion: api.cerbos.dev/v1
derivedRoles:
  name: common
  definitions:
    - name: owner
      parentRoles: ["user"]
      condition:
        match:
          expr: R.attr.owner == P.id
)";

}  // namespace

TEST_CASE("a valid set compiles and reports its size") {
  auto set = MustCompile({{"derived.yaml", kDerived},
                          {"doc.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  importDerivedRoles: [common]
  rules:
    - actions: ["view"]
      effect: EFFECT_ALLOW
      derivedRoles: [owner]
)"}});
  CHECK(set->policy_count() == 1);
  CHECK(set->CoversResourceKind("doc"));
  CHECK_FALSE(set->CoversResourceKind("album"));
}

TEST_CASE("unknown field, wrong type and missing required field are named with positions") {
  const auto errors = CompileErrors({{"p.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  versoin: default
  rules:
    - actions: "view"
      effect: EFFECT_ALLOW
      roles: ["user"]
    - actions: ["edit"]
      effect: EFFECT_MAYBE
      roles: ["user"]
)"}});
  INFO(Dump(errors));
  CHECK(HasError(errors, "p.yaml", 4, 3, "unknown field 'versoin'"));
  CHECK(HasError(errors, "p.yaml", 3, 3, "missing required field 'version'"));
  CHECK(HasError(errors, "p.yaml", 6, 16, "actions: must be a list of strings"));
  CHECK(HasError(errors, "p.yaml", 10, 15, "must be EFFECT_ALLOW or EFFECT_DENY, got 'EFFECT_MAYBE'"));
}

TEST_CASE("bad CEL is reported at its position inside the file") {
  const auto errors = CompileErrors({{"p.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  rules:
    - actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: R.attr.owner == == P.id
)"}});
  INFO(Dump(errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].file == "p.yaml");
  CHECK(errors[0].line == 11);
  CHECK(errors[0].column >= 17);
  CHECK(errors[0].message.find("invalid CEL expression") != std::string::npos);
}

TEST_CASE("a CEL error inside a block scalar maps to the right line") {
  const auto errors = CompileErrors({{"p.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  rules:
    - actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: |-
            R.attr.a == 1 &&
              nosuchvar == 2
)"}});
  INFO(Dump(errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].line == 13);
  CHECK(errors[0].message.find("nosuchvar") != std::string::npos);
}

TEST_CASE("unknown derived role, unknown import and undefined variable") {
  const auto errors = CompileErrors({{"derived.yaml", kDerived},
                                     {"p.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  importDerivedRoles: [common, missing_set]
  rules:
    - actions: ["view"]
      effect: EFFECT_ALLOW
      derivedRoles: [owner, boss]
      condition:
        match:
          expr: V.undefined_thing
)"}});
  INFO(Dump(errors));
  CHECK(HasError(errors, "p.yaml", 5, 32, "unknown derivedRoles 'missing_set'"));
  CHECK(HasError(errors, "p.yaml", 9, 29, "unknown derived role 'boss'"));
  CHECK(HasError(errors, "p.yaml", 12, 17, "undefined variable 'undefined_thing'"));
}

TEST_CASE("a broken variable definition is reported where it is defined") {
  const auto errors = CompileErrors({{"p.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  variables:
    local:
      ok: R.attr.a == 1
      broken: R.attr.b ==
  rules:
    - actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: V.ok && V.broken
)"}});
  INFO(Dump(errors));
  CHECK(HasError(errors, "p.yaml", 8, 0, "invalid CEL expression"));
}

TEST_CASE("duplicate policies and missing scope ancestors are errors") {
  const std::string policy = R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  rules:
    - actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
)";
  auto errors = CompileErrors({{"a.yaml", policy}, {"b.yaml", policy}});
  INFO(Dump(errors));
  CHECK(HasError(errors, "b.yaml", 2, 1, "duplicate policy resource.doc.vdefault (also defined in a.yaml)"));

  errors = CompileErrors({{"scoped.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  scope: acme.hr
  rules:
    - actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
)"}});
  INFO(Dump(errors));
  CHECK(HasError(errors, "scoped.yaml", 2, 1, "missing ancestor policy resource.doc.vdefault/acme"));
  CHECK(HasError(errors, "scoped.yaml", 2, 1, "missing ancestor policy resource.doc.vdefault of"));
}

TEST_CASE("YAML syntax errors, non-policy files and several kinds in one document") {
  auto errors = CompileErrors({{"broken.yaml", "apiVersion: api.cerbos.dev/v1\nresourcePolicy: [unclosed\n"}});
  INFO(Dump(errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message.find("syntax error") != std::string::npos);
  CHECK(errors[0].line >= 2);

  errors = CompileErrors({{"x.yaml", "apiVersion: api.cerbos.dev/v1\nfoo: 1\n"}});
  CHECK(HasError(errors, "x.yaml", 2, 1, "unknown field 'foo'"));
  CHECK(HasError(errors, "x.yaml", 1, 1, "exactly one of resourcePolicy"));

  errors = CompileErrors({{"v.yaml", "apiVersion: api.cerbos.dev/v2\nexportConstants:\n  name: c\n  definitions: {a: 1}\n"}});
  CHECK(HasError(errors, "v.yaml", 1, 13, "apiVersion: must be 'api.cerbos.dev/v1'"));
}

TEST_CASE("every error is reported, not just the first, and the Status lists them") {
  std::vector<LoadError> errors;
  auto set = PolicySet::Compile({{"a.yaml", "apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: x\n"},
                                 {"b.yaml", "apiVersion: api.cerbos.dev/v1\nprincipalPolicy:\n  version: default\n"}},
                                {}, &errors);
  REQUIRE_FALSE(set.ok());
  CHECK(errors.size() == 2);
  CHECK(set.status().message().find("a.yaml:3:3: resourcePolicy: missing required field 'version'") != std::string::npos);
  CHECK(set.status().message().find("b.yaml:3:3: principalPolicy: missing required field 'principal'") != std::string::npos);
}

TEST_CASE("conflicting scopePermissions in one scope, unknown exports and disabled policies") {
  auto errors = CompileErrors({{"root.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy: {resource: a, version: default, rules: [{actions: [x], effect: EFFECT_ALLOW, roles: [r]}]}
)"},
                               {"root_b.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy: {resource: b, version: default, rules: [{actions: [x], effect: EFFECT_ALLOW, roles: [r]}]}
)"},
                               {"a.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: a
  version: default
  scope: s
  scopePermissions: SCOPE_PERMISSIONS_OVERRIDE_PARENT
  constants:
    import: [nope]
  rules: []
)"},
                               {"b.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: b
  version: default
  scope: s
  scopePermissions: SCOPE_PERMISSIONS_REQUIRE_PARENTAL_CONSENT_FOR_ALLOWS
  rules: []
)"}});
  INFO(Dump(errors));
  CHECK(HasError(errors, "b.yaml", 2, 1, "scopePermissions of scope 's' conflict"));
  CHECK(HasError(errors, "a.yaml", 8, 14, "unknown exportConstants 'nope'"));

  // A disabled policy is skipped entirely, even when it would not compile.
  auto set = MustCompile({{"off.yaml", "apiVersion: api.cerbos.dev/v1\ndisabled: true\nresourcePolicy:\n  resource: x\n  version: default\n  importDerivedRoles: [nothing]\n"}});
  CHECK(set->policy_count() == 0);
}

TEST_CASE("hostile input gets errors, never a crash") {
  // Deeply nested YAML.
  std::string deep = "apiVersion: api.cerbos.dev/v1\nresourcePolicy: ";
  for (int i = 0; i < 5000; ++i) deep += "[";
  auto errors = CompileErrors({{"deep.yaml", deep}});
  CHECK_FALSE(errors.empty());
  // Deeply nested match blocks.
  std::string nested = "apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: d\n  version: default\n  rules:\n"
                       "    - actions: [v]\n      effect: EFFECT_ALLOW\n      roles: [u]\n      condition:\n        match: ";
  for (int i = 0; i < 40; ++i) nested += "{all: {of: [";
  nested += "{expr: \"true\"}";
  for (int i = 0; i < 40; ++i) nested += "]}}";
  nested += "\n";
  errors = CompileErrors({{"nested.yaml", nested}});
  INFO(Dump(errors));
  CHECK(HasError(errors, "nested.yaml", 0, 0, "match nesting deeper than 32 levels"));
  // Binary garbage and empty files.
  errors = CompileErrors({{"garbage.yaml", std::string("\x01\x02\xff\xfe{{{:::", 11)}});
  CHECK_FALSE(errors.empty());
  errors = CompileErrors({{"empty.yaml", ""}});
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message == "the file holds no policy document");
  // A hostile condition compiles but its cost is bounded at evaluation time.
  auto set = MustCompile({{"cost.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: d
  version: default
  rules:
    - actions: [v]
      effect: EFFECT_ALLOW
      roles: [u]
      condition:
        match:
          expr: R.attr.xs.all(a, R.attr.xs.all(b, R.attr.xs.all(c, R.attr.xs.all(d, a + b + c + d >= 0.0))))
)"}});
  nlohmann::json xs = nlohmann::json::array();
  for (int i = 0; i < 200; ++i) xs.push_back(i);
  CHECK(EffectOf(*set, MakePrincipal("p", {"u"}), MakeResource("d", "1", {{"xs", xs}}), "v") == "DENY");
}

TEST_CASE("expression limits bound each condition as written and after variables expand") {
  auto policy = [](const std::string& variable, const std::string& expr) {
    return std::string(R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  variables:
    local:
      wide: )") + variable + R"(
  rules:
    - actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: )" + expr + "\n";
  };
  CompileSetOptions options;
  options.expression_limits.max_length = 60;
  std::vector<LoadError> errors;
  auto long_expr = PolicySet::Compile({{"doc.yaml", policy("true", "P.id == 'a' || P.id == 'b' || P.id == 'c' || P.id == 'd' || P.id == 'e'")}},
                                      options, &errors);
  CHECK_FALSE(long_expr.ok());
  CHECK_MESSAGE(HasError(errors, "doc.yaml", 14, 0, "longer than the limit of 60"), Dump(errors));

  // Short as written, but the variable it names expands past the limit.
  errors.clear();
  auto expanded = PolicySet::Compile(
      {{"doc.yaml", policy("P.attr.a == 1 || P.attr.b == 2 || P.attr.c == 3 || P.attr.d == 4", "V.wide")}}, options,
      &errors);
  CHECK_FALSE(expanded.ok());
  CHECK_MESSAGE(HasError(errors, "doc.yaml", 0, 0, "longer than the limit of 60"), Dump(errors));

  options.expression_limits.max_length = 1000;
  options.expression_limits.max_depth = 3;
  errors.clear();
  auto deep = PolicySet::Compile({{"doc.yaml", policy("true", "((((true))))")}}, options, &errors);
  CHECK_FALSE(deep.ok());
  CHECK_MESSAGE(HasError(errors, "doc.yaml", 14, 0, "nested deeper than"), Dump(errors));
  CHECK(PolicySet::Compile({{"doc.yaml", policy("true", "((((true))))")}}).ok());
}

TEST_CASE("variables that each use the one before twice are refused before they expand") {
  // v29 would expand to about 2^29 copies of v0: the expansion must stop at the length limit,
  // naming the variable, instead of growing until memory runs out.
  std::string text = R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  variables:
    local:
      v0: "P.attr.a == 1"
)";
  for (int i = 1; i < 40; ++i) {  // v30..v39 nest deeper than 32 levels
    text += "      v" + std::to_string(i) + ": \"V.v" + std::to_string(i - 1) + " || V.v" + std::to_string(i - 1) + "\"\n";
  }
  text += R"(  rules:
    - actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: V.v29
)";
  std::vector<LoadError> errors;
  auto set = PolicySet::Compile({{"doc.yaml", text}}, {}, &errors);
  CHECK_FALSE(set.ok());
  CHECK_MESSAGE(HasError(errors, "doc.yaml", 0, 0, "variable 'v29' makes the condition longer than the limit of 100000"),
                Dump(errors));
  CHECK(errors.size() == 1);
  errors.clear();
  std::string deepest = text.substr(0, text.rfind("V.v29")) + "V.v39\n";
  CHECK_FALSE(PolicySet::Compile({{"doc.yaml", deepest}}, {}, &errors).ok());
  CHECK_MESSAGE(HasError(errors, "doc.yaml", 0, 0, "variable 'v39' nests variables deeper than 32 levels"), Dump(errors));
  CHECK(errors.size() == 1);
  // A chain that stays under the limit still expands.
  std::string short_chain = text.substr(0, text.find("      v10:")) + R"(  rules:
    - actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: V.v9
)";
  CHECK(PolicySet::Compile({{"doc.yaml", short_chain}}).ok());
}
