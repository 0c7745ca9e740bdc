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
    "\n"
    "control plane (--url URL / WARDEN_URL, --token TOKEN / WARDEN_TOKEN, --ca FILE / WARDEN_CA for https,\n"
    "  --cert FILE / WARDEN_CERT and --key FILE / WARDEN_KEY for a client certificate, --json on every command):\n"
    "  push DIR [--prune]             push policies/, manifest.yaml|schema.zed and data/ as one revision\n"
    "  import FILE                    import JSON lines of objects and relations, all or nothing\n"
    "  policy list|get|history|tag|rollback   current policy files and their history\n"
    "  manifest get                   print the stored manifest\n"
    "  object get|set|rm TYPE:ID      read, write or delete an object\n"
    "  relation set|rm|list           write, delete or list relations\n"
    "  keys create|list|revoke        edge keys\n"
    "  tokens create|list|revoke      admin tokens\n"
    "  edges                          connected edges\n"
    "  decisions [FILTER=V] [--follow]  decision logs (subject=, resource=, action=, decision=, edge=, from=, to=)\n"
    "  revision                       the latest revision and the store_id\n"
    "  backup FILE                    a consistent copy of the store's database\n"
    "  restore FILE --db DB           put a backup in place (control plane stopped)\n"
    "\n"
    "  version           print the version\n"
    "  help              print this text\n"
    "\n"
    "exit codes: 0 ok, 1 refused or failed, 2 usage or connection error\n";

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
  if (command == "push") return warden::ctl::PushCommand(args);
  if (command == "import") return warden::ctl::ImportCommand(args);
  if (command == "policy") return warden::ctl::PolicyCommand(args);
  if (command == "manifest") return warden::ctl::ManifestCommand(args);
  if (command == "object") return warden::ctl::ObjectCommand(args);
  if (command == "relation") return warden::ctl::RelationCommand(args);
  if (command == "keys") return warden::ctl::KeysCommand(args);
  if (command == "tokens") return warden::ctl::TokensCommand(args);
  if (command == "edges") return warden::ctl::EdgesCommand(args);
  if (command == "decisions") return warden::ctl::DecisionsCommand(args);
  if (command == "revision") return warden::ctl::RevisionCommand(args);
  if (command == "backup") return warden::ctl::BackupCommand(args);
  if (command == "restore") return warden::ctl::RestoreCommand(args);
  std::fprintf(stderr, "wardenctl: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 2;
}
