#include "common/snapshot/folder_snapshot.h"

#include <algorithm>
#include <vector>

#include "common/directory/folder_loader.h"
#include "common/policy/folder.h"

namespace warden {

namespace fs = std::filesystem;

Result<std::shared_ptr<const Snapshot>> LoadSnapshotFolder(const fs::path& dir, uint64_t revision,
                                                           std::string store_id,
                                                           const policy::ExpressionLimits& expression_limits) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) return Status::NotFound("data folder '" + dir.string() + "' does not exist");

  std::vector<std::string> problems;
  std::vector<policy::SourceDocument> sources;
  fs::path policies_dir = dir / "policies";
  if (fs::is_directory(policies_dir, error)) {
    auto read = policy::ReadPolicyFolder(policies_dir.string());
    if (read.ok()) {
      sources = std::move(*read);
      for (auto& source : sources) source.path = "policies/" + source.path;
    } else {
      problems.push_back(read.status().message());
    }
  }
  auto directory = directory::LoadDirectoryFolder(dir, revision);
  if (!directory.ok()) problems.push_back(directory.status().message());

  std::shared_ptr<const Snapshot> snapshot;
  if (problems.empty()) {
    auto made = MakeSnapshot(std::move(sources), *directory, revision, std::move(store_id), expression_limits);
    if (made.ok()) {
      snapshot = std::move(*made);
    } else {
      problems.push_back(made.status().message());
    }
  } else if (directory.ok()) {
    // Still compile the policies so their errors are reported together with the others.
    policy::CompileSetOptions compile_options;
    compile_options.expression_limits = expression_limits;
    auto compiled = policy::PolicySet::Compile(sources, compile_options);
    if (!compiled.ok()) problems.push_back(compiled.status().message());
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& problem : problems) {
      if (!message.empty()) message += "\n";
      message += problem;
    }
    return Status::InvalidArgument(message);
  }
  return snapshot;
}

std::string FolderFingerprint(const fs::path& dir) {
  std::vector<std::string> entries;
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (!it->is_regular_file(error)) continue;
    auto size = it->file_size(error);
    auto time = it->last_write_time(error).time_since_epoch().count();
    entries.push_back(it->path().string() + "|" + std::to_string(size) + "|" + std::to_string(time));
  }
  std::sort(entries.begin(), entries.end());
  std::string fingerprint;
  for (auto& entry : entries) fingerprint += entry + "\n";
  return fingerprint;
}

}  // namespace warden
