// Loading a whole standalone folder (design.md, "Standalone mode") into one snapshot:
//   DIR/policies/**.{yaml,yml,json}   Cerbos-format policies
//   DIR/manifest.yaml | DIR/schema.zed the directory model
//   DIR/data/**.{json,jsonl}          objects and relations
// Any of the three may be absent, but not all three. A folder with no policies/ whose policy
// files lie at its top or below (Cerbos's disk layout) is read the same way.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/snapshot/snapshot.h"

namespace warden {

// The policy documents of a standalone folder, as wardenctl push sends them and the edge loads them.
struct FolderPolicies {
  // Where the documents were found, relative to the folder: "policies/", or "" for Cerbos's
  // layout (policy files in the folder itself, outside data/, manifest.yaml and schema.zed).
  std::string root;
  std::vector<policy::SourceDocument> documents;  // paths relative to `root`, sorted
};

// Reads DIR/policies/ when it exists, else every policy file at any depth of DIR except those
// under data/ and the manifest. InvalidArgument when a file cannot be read; NotFound when `dir`
// is not a folder.
Result<FolderPolicies> ReadFolderPolicies(const std::filesystem::path& dir);

// FailedPrecondition when a folder holds nothing an edge could serve (no policies, no manifest or
// schema and no data/ files), naming what was looked for; ok otherwise.
Status CheckFolderServable(const std::filesystem::path& dir, const FolderPolicies& policies);

// All-or-nothing: either every part loads, or the InvalidArgument Status lists every problem
// found in every part (policy errors as "policies/x.yaml:3:5: reason", data errors as
// "data/users.jsonl:12: reason"). NotFound when `dir` is not a folder; FailedPrecondition (from
// CheckFolderServable) when it holds nothing to serve.
Result<std::shared_ptr<const Snapshot>> LoadSnapshotFolder(const std::filesystem::path& dir, uint64_t revision,
                                                           std::string store_id,
                                                           const policy::ExpressionLimits& expression_limits = {});

// A cheap fingerprint of the folder's files (paths, sizes and modification times), to notice
// edits without reading them. Changes whenever a file under `dir` is added, removed or written.
std::string FolderFingerprint(const std::filesystem::path& dir);

}  // namespace warden
