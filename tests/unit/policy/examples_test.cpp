// The example policy folders in examples/ compile and their own test suites pass.
#include "common/policy/test_suite.h"
#include "tests/unit/policy/test_helpers.h"

using namespace warden::policy;

TEST_CASE("examples/expenses: the suite runs every case and passes") {
  auto report = RunPolicyTests(std::string(WARDEN_SOURCE_DIR) + "/examples/expenses/policies");
  INFO(report.status().message());
  REQUIRE(report.ok());
  INFO(report->text);
  CHECK(report->passed == 99);  // 98 action effects and one expected output
  CHECK(report->failed == 0);
  CHECK(report->text == "99 passed, 0 failed\n");
}
