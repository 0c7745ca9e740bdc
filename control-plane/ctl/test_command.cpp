// wardenctl test DIR: the policy test suites of a folder, the way Cerbos and OPA users run them in CI.
#include <cstdio>
#include <filesystem>

#include "common/policy/test_suite.h"
#include "control-plane/ctl/commands.h"

namespace warden::ctl {

int TestCommand(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::fputs("usage: wardenctl test DIR   (DIR holds policies and *_test.yaml suites, or a policies/ folder)\n", stderr);
    return 2;
  }
  std::filesystem::path dir = args[0];
  std::error_code error;
  if (std::filesystem::is_directory(dir / "policies", error)) dir /= "policies";
  auto report = policy::RunPolicyTests(dir.string());
  if (!report.ok()) {
    std::fprintf(stderr, "wardenctl test: %s\n", report.status().message().c_str());
    return 1;
  }
  std::fputs(report->text.c_str(), stdout);
  if (!report->text.empty() && report->text.back() != '\n') std::fputc('\n', stdout);
  if (report->passed + report->failed == 0) {
    std::fprintf(stderr, "wardenctl test: no test suites (*_test.yaml) under %s\n", dir.c_str());
    return 1;
  }
  return report->failed == 0 ? 0 : 1;
}

}  // namespace warden::ctl
