// wardenctl: the operator's command line.
//
// `wardenctl [GLOBAL FLAGS] COMMAND [ARGUMENTS AND FLAGS]`: the connection flags (--url, --token,
// --ca, --cert, --key, --config, --json) may come before the command or anywhere after it.
// `wardenctl COMMAND --help` and `wardenctl help COMMAND` print that command's usage.
#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "control-plane/ctl/commands.h"

namespace {

constexpr const char* kConnection =
    "\n"
    "connection (before or after the command): --url URL (WARDEN_URL, default http://127.0.0.1:8484),\n"
    "  --token TOKEN (WARDEN_TOKEN), --ca FILE (WARDEN_CA) for https, --cert FILE and --key FILE\n"
    "  (WARDEN_CERT, WARDEN_KEY) for a client certificate, --config FILE (default\n"
    "  ~/.config/warden/wardenctl.yaml with lines 'url: ...' and 'token: ...'), --json for JSON output\n";

struct Command {
  const char* name;
  int (*run)(const std::vector<std::string>& args);
  const char* summary;  // one line in the command list
  const char* usage;    // what `wardenctl NAME --help` prints
  bool remote;          // talks to a control plane (takes the connection flags)
};

const Command kCommands[] = {
    {"eval", warden::ctl::EvalCommand, "decide requests from stdin against a folder, as an edge would",
     "usage: wardenctl eval --data DIR < requests.jsonl\n"
     "  Loads DIR (policies/ or policy files at its top, manifest.yaml or schema.zed, data/) exactly as\n"
     "  warden-edge --data does, reads one JSON request per line (Cerbos check or plan, AuthZEN\n"
     "  evaluation(s), directory check or lookup) and writes one JSON answer per line.\n"
     "  Exit 1 when the folder does not load or holds nothing to serve, or when any line was refused.\n",
     false},
    {"test", warden::ctl::TestCommand, "run the policy test suites (*_test.yaml) of a folder",
     "usage: wardenctl test DIR\n"
     "  DIR holds policies and *_test.yaml suites (or a policies/ folder that does). Ends with\n"
     "  'N passed, M failed'; exit 1 when any failed or there are none.\n",
     false},
    {"validate", warden::ctl::ValidateCommand, "report every problem in a folder, as a push would refuse it",
     "usage: wardenctl validate DIR\n"
     "  Loads DIR as an edge would (policies, manifest, data) and prints every problem with its file,\n"
     "  line and reason (exit 1), or a summary of what it holds (exit 0).\n",
     false},
    {"push", warden::ctl::PushCommand, "push a folder's policies, manifest and data as one revision",
     "usage: wardenctl push DIR [--prune]\n"
     "  Sends DIR's policies (policies/ or policy files at its top), manifest.yaml or schema.zed and\n"
     "  data/ as one revision. --prune also deletes stored objects and relations DIR does not hold.\n",
     true},
    {"import", warden::ctl::ImportCommand, "import objects and relations, all or nothing",
     "usage: wardenctl import FILE|-\n"
     "  FILE holds JSON lines (one object or relation each) or Topaz's JSON documents\n"
     "  ({\"objects\": [...], \"relations\": [...]}). All or nothing, as one revision.\n",
     true},
    {"check", warden::ctl::CheckCommand, "check a permission or relation at the control plane, with its path",
     "usage: wardenctl check SUBJECT_TYPE:SUBJECT_ID PERMISSION OBJECT_TYPE:OBJECT_ID [--trace]\n"
     "  Answered by the control plane from its latest revision, like `zed permission check`.\n"
     "  Prints allowed or denied, the revision, and with --trace the relation path. Exit 0 either way.\n",
     true},
    {"evaluate", warden::ctl::EvaluateCommand, "evaluate an AuthZEN request at the control plane",
     "usage: wardenctl evaluate '{\"subject\": ..., \"action\": ..., \"resource\": ...}' | -\n"
     "  An AuthZEN evaluation body (or '-' to read it from stdin), decided by the control plane from\n"
     "  its latest revision with the explanation of the decision.\n",
     true},
    {"policy", warden::ctl::PolicyCommand, "current policy files, their history, tags, rollback and diff",
     "usage: wardenctl policy list                 current policy files\n"
     "       wardenctl policy get PATH             print one file\n"
     "       wardenctl policy history              every pushed policy set (revision, hash, author, time, tags)\n"
     "       wardenctl policy tag REVISION TAG     tag the set pushed at REVISION\n"
     "       wardenctl policy rollback TAG|REVISION  make that set current again (a new revision)\n"
     "       wardenctl policy diff A B             what changed between two sets (TAG or REVISION each)\n",
     true},
    {"manifest", warden::ctl::ManifestCommand, "print the stored manifest", "usage: wardenctl manifest get\n", true},
    {"object", warden::ctl::ObjectCommand, "read, write or delete an object",
     "usage: wardenctl object get TYPE:ID\n"
     "       wardenctl object set TYPE:ID ['{\"display_name\": ..., \"properties\": {...}}']\n"
     "       wardenctl object rm TYPE:ID\n",
     true},
    {"relation", warden::ctl::RelationCommand, "write, delete or list relations",
     "usage: wardenctl relation set|rm OBJECT_TYPE:OBJECT_ID#RELATION@SUBJECT_TYPE:SUBJECT_ID[#SUBJECT_RELATION]\n"
     "       wardenctl relation list [object_type=T] [object_id=I] [relation=R] [subject_type=T] [subject_id=I]\n",
     true},
    {"keys", warden::ctl::KeysCommand, "edge keys (create shows the key once)",
     "usage: wardenctl keys create NAME | keys list | keys revoke ID\n"
     "  Key names are unique; an edge group may hold several keys (create, deploy, revoke to rotate).\n",
     true},
    {"tokens", warden::ctl::TokensCommand, "admin tokens (create shows the token once)",
     "usage: wardenctl tokens create NAME read|write | tokens list | tokens revoke ID\n", true},
    {"edges", warden::ctl::EdgesCommand, "the edges the control plane knows", "usage: wardenctl edges\n", true},
    {"decisions", warden::ctl::DecisionsCommand, "decision logs, filtered, or followed as they arrive",
     "usage: wardenctl decisions [subject=TYPE:ID] [resource=TYPE:ID] [action=A] [decision=allow|deny]\n"
     "                           [edge=INSTANCE] [from=TIME] [to=TIME] [limit=N] [--follow]\n"
     "  TIME is RFC 3339 or unix seconds. The latest matching entries (limit=N, 20 unless given), oldest\n"
     "  first so the newest is last; --follow then prints each new entry as it arrives.\n",
     true},
    {"revision", warden::ctl::RevisionCommand, "the latest revision and the store_id", "usage: wardenctl revision\n",
     true},
    {"backup", warden::ctl::BackupCommand, "a consistent copy of the store's database",
     "usage: wardenctl backup FILE\n", true},
    {"restore", warden::ctl::RestoreCommand, "put a backup in place (control plane stopped)",
     "usage: wardenctl restore FILE --db DB\n  Offline: run it with the control plane stopped.\n", false},
};

const Command* FindCommand(std::string_view name) {
  for (const auto& command : kCommands) {
    if (name == command.name) return &command;
  }
  return nullptr;
}

void PrintUsage(std::FILE* out) {
  std::fputs("usage: wardenctl [--url URL] [--token TOKEN] [--json] COMMAND [ARGUMENTS]\n\ncommands:\n", out);
  for (const auto& command : kCommands) std::fprintf(out, "  %-10s %s\n", command.name, command.summary);
  std::fputs("  version    print the version\n"
             "  help [COMMAND]  this text, or one command's usage (also: wardenctl COMMAND --help)\n",
             out);
  std::fputs(kConnection, out);
  std::fputs("\nexit codes: 0 ok, 1 refused or failed, 2 usage or connection error\n", out);
}

void PrintCommandUsage(const Command& command) {
  std::fputs(command.usage, stdout);
  if (command.remote) std::fputs(kConnection, stdout);
}

// The connection flags that take a value, so that one given before the command is not taken for it.
bool IsValuedGlobalFlag(const std::string& arg) {
  for (const char* flag : {"--url", "--token", "--ca", "--cert", "--key", "--config"}) {
    if (arg == flag) return true;
  }
  return false;
}

bool IsGlobalFlag(const std::string& arg) {
  if (arg == "--json" || IsValuedGlobalFlag(arg)) return true;
  for (const char* flag : {"--url=", "--token=", "--ca=", "--cert=", "--key=", "--config="}) {
    if (arg.rfind(flag, 0) == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // Flags before the command travel after it: every command takes them anywhere.
  std::vector<std::string> leading_flags;
  size_t at = 0;
  while (at < args.size() && IsGlobalFlag(args[at])) {
    leading_flags.push_back(args[at]);
    if (IsValuedGlobalFlag(args[at]) && at + 1 < args.size()) leading_flags.push_back(args[++at]);
    ++at;
  }
  if (at == args.size()) {
    PrintUsage(stderr);
    return 2;
  }
  const std::string name = args[at];
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(at) + 1, args.end());
  rest.insert(rest.end(), leading_flags.begin(), leading_flags.end());

  if (name == "help" || name == "--help" || name == "-h") {
    if (rest.empty() || rest.front().rfind("--", 0) == 0) {
      PrintUsage(stdout);
      return 0;
    }
    const Command* command = FindCommand(rest.front());
    if (command == nullptr) {
      std::fprintf(stderr, "wardenctl: unknown command '%s'\n\n", rest.front().c_str());
      PrintUsage(stderr);
      return 2;
    }
    PrintCommandUsage(*command);
    return 0;
  }
  if (name == "version" || name == "--version") {
    std::printf("wardenctl %s\n", WARDEN_VERSION);
    return 0;
  }
  const Command* command = FindCommand(name);
  if (command == nullptr) {
    std::fprintf(stderr, "wardenctl: unknown command '%s'\n\n", name.c_str());
    PrintUsage(stderr);
    return 2;
  }
  if (std::any_of(rest.begin(), rest.end(), [](const std::string& arg) { return arg == "--help" || arg == "-h"; })) {
    PrintCommandUsage(*command);
    return 0;
  }
  return command->run(rest);
}
