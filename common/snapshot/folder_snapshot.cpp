#include "common/snapshot/folder_snapshot.h"

#include <algorithm>
#include <vector>

#include "common/directory/folder_loader.h"
#include "common/policy/folder.h"

namespace warden {

namespace fs = std::filesystem;

namespace {

bool IsModelFile(const std::string& relative_path) {
  return relative_path == "manifest.yaml" || relative_path == "schema.zed";
}

bool HasDataFiles(const fs::path& data_dir) {
  std::error_code error;
  if (!fs::is_directory(data_dir, error)) return false;
  for (auto it = fs::recursive_directory_iterator(data_dir, error); !error && it != fs::recursive_directory_iterator();
       it.increment(error)) {
    const auto extension = it->path().extension();
    if (it->is_regular_file(error) && (extension == ".json" || extension == ".jsonl")) return true;
  }
  return false;
}

}  // namespace

Result<FolderPolicies> ReadFolderPolicies(const fs::path& dir) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) return Status::NotFound("data folder '" + dir.string() + "' does not exist");
  FolderPolicies policies;
  const fs::path policies_dir = dir / "policies";
  if (fs::is_directory(policies_dir, error)) {
    auto read = policy::ReadPolicyFolder(policies_dir.string());
    if (!read.ok()) return read.status();
    policies.root = "policies/";
    policies.documents = std::move(*read);
    return policies;
  }
  // Cerbos's layout: the folder is the policy root. data/ and the model are Warden's own parts.
  auto read = policy::ReadPolicyFolder(dir.string());
  if (!read.ok()) return read.status();
  for (auto& document : *read) {
    if (document.path.rfind("data/", 0) == 0 || IsModelFile(document.path)) continue;
    policies.documents.push_back(std::move(document));
  }
  return policies;
}

Status CheckFolderServable(const fs::path& dir, const FolderPolicies& policies) {
  if (!policies.documents.empty()) return Status::Ok();
  std::error_code error;
  for (const char* model : {"manifest.yaml", "schema.zed"}) {
    if (fs::exists(dir / model, error)) return Status::Ok();
  }
  if (HasDataFiles(dir / "data")) return Status::Ok();
  return Status::FailedPrecondition(
      "'" + dir.string() +
      "' holds nothing to serve: no policy files (*.yaml, *.yml, *.json in policies/ or, Cerbos's layout, in the folder "
      "itself), no manifest.yaml or schema.zed, and no data/*.json or data/*.jsonl");
}

Result<std::shared_ptr<const Snapshot>> LoadSnapshotFolder(const fs::path& dir, uint64_t revision,
                                                           std::string store_id,
                                                           const policy::ExpressionLimits& expression_limits) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) return Status::NotFound("data folder '" + dir.string() + "' does not exist");

  std::vector<std::string> problems;
  std::vector<policy::SourceDocument> sources;
  auto policies = ReadFolderPolicies(dir);
  if (policies.ok()) {
    Status servable = CheckFolderServable(dir, *policies);
    if (!servable.ok()) return servable;
    sources = std::move(policies->documents);
    for (auto& source : sources) source.path = policies->root + source.path;
  } else {
    problems.push_back(policies.status().message());
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
