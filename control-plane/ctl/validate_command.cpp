// wardenctl validate DIR: loads a folder exactly as an edge would and reports every problem, like
// `cerbos compile`: for CI, before a push.
#include <cstdio>
#include <filesystem>

#include "common/snapshot/folder_snapshot.h"
#include "control-plane/ctl/commands.h"

namespace warden::ctl {

int ValidateCommand(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0].rfind("--", 0) == 0) {
    std::fputs("usage: wardenctl validate DIR\n", stderr);
    return 2;
  }
  const std::filesystem::path dir = args[0];
  auto snapshot = LoadSnapshotFolder(dir, 1, "validate");
  if (!snapshot.ok()) {
    std::fprintf(stderr, "wardenctl validate: %s is not valid:\n%s\n", dir.c_str(), snapshot.status().message().c_str());
    return 1;
  }
  const Snapshot& loaded = **snapshot;
  const auto& manifest = loaded.directory->manifest_source();
  const std::string model = manifest ? manifest->name : std::string("Topaz's built-in model");
  std::printf("%s is valid: %zu policies, %s, %zu objects, %zu relations\n", dir.c_str(),
              loaded.policies->policy_count(), model.c_str(), loaded.directory->object_count(),
              loaded.directory->relation_count());
  return 0;
}

}  // namespace warden::ctl
