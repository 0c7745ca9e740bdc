// Policy tests the way Cerbos users write them: `*_test.yaml` suites next to the policies.
//
// A suite names principals and resources (inline, or in `testdata/principals.yaml` and
// `testdata/resources.yaml` beside it), then tests: each test's input crosses principals x
// resources x actions, and `expected` lists the effects per (principal, resource); an action
// not listed there is expected to be EFFECT_DENY, as in Cerbos. An expected entry may also list
// `outputs: [{action, expected: [{src, val}]}]`; each expected output is one more case.
// `options.now` fixes `now()`.
// `skip: true` skips a test (counted, not run).
//
// RunPolicyTests is what `wardenctl test DIR` calls.
#pragma once

#include <string>
#include <vector>

#include "common/policy/policy_set.h"
#include "common/util/status.h"

namespace warden::policy {

struct TestFailure {
  std::string suite;   // suite name (file)
  std::string test;    // test name
  std::string principal, resource, action;
  std::string expected, actual;  // EFFECT_ALLOW / EFFECT_DENY
  std::string detail;  // which policy and rule decided, and where it is written
};

struct TestReport {
  int passed = 0;
  int failed = 0;
  int skipped = 0;
  std::vector<TestFailure> failures;
  // One line per failure ("FAIL suite / test: principal alice, resource r1, action view: expected
  // EFFECT_ALLOW, got EFFECT_DENY (...)"), then "N passed, M failed" (and ", K skipped" if any).
  std::string text;
};

// Compiles the policies under `dir` and runs every test suite found there (any depth). Errors:
// the folder's status from ReadPolicyFolder, InvalidArgument for policies that do not compile
// (every error listed) or a malformed suite (file, line, column and reason). Failing tests are
// not an error: they are in the report.
Result<TestReport> RunPolicyTests(const std::string& dir);

// Runs the suites given as (path, text) against `set`; test data files are looked up under
// `dir`/<suite's folder>/testdata when `dir` is non-empty.
Result<TestReport> RunTestSuites(const PolicySet& set, const std::vector<SourceDocument>& suites,
                                 const std::string& dir = {});

}  // namespace warden::policy
