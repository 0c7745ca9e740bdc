// wardenctl: the operator's command line.
#include <cstdio>
#include <cstring>
#include <string>

namespace {

constexpr const char* kUsage =
    "usage: wardenctl <command> [arguments]\n"
    "\n"
    "commands:\n"
    "  version    print the version\n"
    "  help       print this text\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "help") == 0 || std::strcmp(argv[1], "--help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string command = argv[1];
  if (command == "version") {
    std::printf("wardenctl %s\n", WARDEN_VERSION);
    return 0;
  }
  std::fprintf(stderr, "wardenctl: unknown command '%s'\n%s", command.c_str(), kUsage);
  return 2;
}
