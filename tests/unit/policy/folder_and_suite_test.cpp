// The folder loader and the Cerbos-style policy test runner, on real files in a temporary folder.
#include <filesystem>
#include <fstream>

#include "common/policy/folder.h"
#include "common/policy/test_suite.h"
#include "tests/unit/policy/test_helpers.h"

using namespace warden::policy;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("warden_policy_test_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  void Write(const std::string& rel, const std::string& text) const {
    fs::create_directories((path / rel).parent_path());
    std::ofstream(path / rel) << text;
  }
};

const char* kPolicy = R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: doc
  rules:
    - name: view
      actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
    - name: edit-own
      actions: ["edit"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: R.attr.owner == P.id
)";

}  // namespace

TEST_CASE("which files are policies") {
  CHECK(IsPolicyFile("a.yaml"));
  CHECK(IsPolicyFile("deep/er/b.yml"));
  CHECK(IsPolicyFile("c.json"));
  CHECK_FALSE(IsPolicyFile("a_test.yaml"));
  CHECK_FALSE(IsPolicyFile("testdata/principals.yaml"));
  CHECK_FALSE(IsPolicyFile("x/testdata/resources.yml"));
  CHECK_FALSE(IsPolicyFile("notes.md"));
  CHECK_FALSE(IsPolicyFile(".hidden/a.yaml"));
}

TEST_CASE("folder loading: any depth, tests and testdata skipped, errors carry relative paths") {
  TempDir dir;
  dir.Write("policies/doc.yaml", kPolicy);
  dir.Write("policies/nested/more/route.json",
            R"({"apiVersion": "api.cerbos.dev/v1", "resourcePolicy": {"resource": "route", "version": "default",
                "rules": [{"actions": ["GET /x"], "effect": "EFFECT_ALLOW", "roles": ["user"]}]}})");
  dir.Write("policies/doc_test.yaml", "not: a policy");
  dir.Write("policies/testdata/principals.yaml", "principals: {}");
  auto set = LoadPolicyFolder((dir.path / "policies").string());
  INFO(set.status().message());
  REQUIRE(set.ok());
  CHECK((*set)->policy_count() == 2);
  CHECK((*set)->CoversResourceKind("route"));

  dir.Write("policies/nested/bad.yaml", "apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  resource: x\n");
  std::vector<LoadError> errors;
  auto bad = LoadPolicyFolder((dir.path / "policies").string(), {}, &errors);
  REQUIRE_FALSE(bad.ok());
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].file == "nested/bad.yaml");

  auto missing = LoadPolicyFolder((dir.path / "nope").string());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == warden::StatusCode::kNotFound);
}

TEST_CASE("policy test suites: passes, failures with the rule involved, testdata fixtures") {
  TempDir dir;
  dir.Write("doc.yaml", kPolicy);
  dir.Write("testdata/principals.yaml", R"(principals:
  bob: {id: bob, roles: [user]}
)");
  dir.Write("doc_test.yaml", R"(name: DocSuite
resources:
  bobs: {kind: doc, id: d1, attr: {owner: bob}}
  alices: {kind: doc, id: d2, attr: {owner: alice}}
tests:
  - name: owners edit
    input:
      principals: [bob]
      resources: [bobs, alices]
      actions: [view, edit]
    expected:
      - principal: bob
        resource: bobs
        actions: {view: EFFECT_ALLOW, edit: EFFECT_ALLOW}
      - principal: bob
        resource: alices
        actions: {view: EFFECT_ALLOW, edit: EFFECT_ALLOW}
)");
  auto report = RunPolicyTests(dir.path.string());
  INFO(report.status().message());
  REQUIRE(report.ok());
  CHECK(report->passed == 3);
  CHECK(report->failed == 1);
  REQUIRE(report->failures.size() == 1);
  const TestFailure& f = report->failures[0];
  CHECK(f.resource == "alices");
  CHECK(f.action == "edit");
  CHECK(f.expected == "EFFECT_ALLOW");
  CHECK(f.actual == "EFFECT_DENY");
  CHECK(f.detail.find("resource.doc.vdefault") != std::string::npos);
  CHECK(report->text.find("3 passed, 1 failed") != std::string::npos);
}

TEST_CASE("expected outputs are checked") {
  TempDir dir;
  dir.Write("doc.yaml", R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: doc
  rules:
    - name: view
      actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      output:
        when:
          ruleActivated: '{"who": P.id, "n": 2}'
)");
  dir.Write("doc_test.yaml", R"(name: Outputs
principals: {bob: {id: bob, roles: [user]}}
resources: {d: {kind: doc, id: d1}}
tests:
  - name: right
    input: {principals: [bob], resources: [d], actions: [view]}
    expected:
      - principal: bob
        resource: d
        actions: {view: EFFECT_ALLOW}
        outputs: [{action: view, expected: [{src: "resource.doc.vdefault#view", val: {who: bob, n: 2}}]}]
  - name: wrong
    input: {principals: [bob], resources: [d], actions: [view]}
    expected:
      - principal: bob
        resource: d
        actions: {view: EFFECT_ALLOW}
        outputs: [{action: view, expected: [{src: "resource.doc.vdefault#view", val: {who: alice, n: 2}}]}]
)");
  auto report = RunPolicyTests(dir.path.string());
  INFO(report.status().message());
  REQUIRE(report.ok());
  CHECK(report->passed == 3);
  CHECK(report->failed == 1);
  REQUIRE(report->failures.size() == 1);
  CHECK(report->failures[0].test == "wrong");
  CHECK(report->failures[0].actual.find("bob") != std::string::npos);
}

TEST_CASE("a malformed suite is an error naming file and position") {
  TempDir dir;
  dir.Write("doc.yaml", kPolicy);
  dir.Write("bad_test.yaml", R"(name: Bad
principals:
  bob: {id: bob}
tests:
  - name: t
    input:
      principals: [nobody]
      resources: [r]
      actions: [view]
)");
  auto report = RunPolicyTests(dir.path.string());
  REQUIRE_FALSE(report.ok());
  CHECK(report.status().message().find("bad_test.yaml:3:8: principal 'bob': needs id and a roles list") !=
        std::string::npos);
  CHECK(report.status().message().find("unknown principal 'nobody'") != std::string::npos);
}
