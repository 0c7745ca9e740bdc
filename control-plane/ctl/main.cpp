// wardenctl: the operator's command line.
#include <cstdio>
#include <string>
#include <vector>

#include "control-plane/ctl/commands.h"

namespace {

constexpr const char* kUsage =
    "usage: wardenctl <command> [arguments]\n"
    "\n"
    "commands:\n"
    "  eval --data DIR   decide requests read from stdin (one JSON object per line) against a folder\n"
    "                    of policies/, manifest.yaml or schema.zed, and data/; one JSON answer per line\n"
    "  test DIR          run the policy test suites (*_test.yaml) in DIR; ends with 'N passed, M failed'\n"
    "  version           print the version\n"
    "  help              print this text\n"
    "\n"
    "exit codes: 0 ok, 1 refused or failed, 2 usage error\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string command = args.front();
  args.erase(args.begin());
  if (command == "help" || command == "--help" || command == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (command == "version" || command == "--version") {
    std::printf("wardenctl %s\n", WARDEN_VERSION);
    return 0;
  }
  if (command == "eval") return warden::ctl::EvalCommand(args);
  if (command == "test") return warden::ctl::TestCommand(args);
  std::fprintf(stderr, "wardenctl: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 2;
}
