#include "control-plane/token_command.h"

#include <cstdio>

#include "control-plane/store/store.h"

namespace warden::control_plane {

namespace {

constexpr const char* kUsage =
    "usage: warden-control-plane token create NAME [read|write] --db FILE\n"
    "  Makes an admin token (write unless 'read' is given) in the store FILE and prints it once.\n"
    "  A running control plane loads it on SIGHUP (or at its next start).\n";

}  // namespace

int RunTokenCommand(const std::vector<std::string>& args) {
  std::vector<std::string> words;
  std::string db;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (args[i] == "--db" && i + 1 < args.size()) {
      db = args[++i];
    } else if (args[i].rfind("--db=", 0) == 0) {
      db = args[i].substr(5);
    } else if (args[i].rfind("--", 0) == 0) {
      std::fprintf(stderr, "warden-control-plane token: unknown flag '%s'\n%s", args[i].c_str(), kUsage);
      return 2;
    } else {
      words.push_back(args[i]);
    }
  }
  if (words.size() < 2 || words.size() > 3 || words[0] != "create" || db.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string scope = words.size() == 3 ? words[2] : "write";
  if (scope != "read" && scope != "write") {
    std::fprintf(stderr, "warden-control-plane token: scope '%s' must be read or write\n", scope.c_str());
    return 2;
  }
  auto store = Store::Open(db);
  if (!store.ok()) {
    std::fprintf(stderr, "warden-control-plane token: %s: %s\n", db.c_str(), store.status().message().c_str());
    return 1;
  }
  auto created = (*store)->CreateToken(words[1], scope);
  if (!created.ok()) {
    std::fprintf(stderr, "warden-control-plane token: %s\n", created.status().message().c_str());
    return 1;
  }
  std::printf("%s\n", created->secret.c_str());
  std::fprintf(stderr,
               "made %s token '%s' (id %s) in %s; it is shown only this once. A running control plane loads it "
               "on SIGHUP.\n",
               scope.c_str(), words[1].c_str(), created->id.c_str(), db.c_str());
  return 0;
}

}  // namespace warden::control_plane
