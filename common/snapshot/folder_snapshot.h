// Loading a whole standalone folder (design.md, "Standalone mode") into one snapshot:
//   DIR/policies/**.{yaml,yml,json}   Cerbos-format policies
//   DIR/manifest.yaml | DIR/schema.zed the directory model
//   DIR/data/**.{json,jsonl}          objects and relations
// Any of the three may be absent.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/snapshot/snapshot.h"

namespace warden {

// All-or-nothing: either every part loads, or the InvalidArgument Status lists every problem
// found in every part (policy errors as "policies/x.yaml:3:5: reason", data errors as
// "data/users.jsonl:12: reason"). NotFound when `dir` is not a folder.
Result<std::shared_ptr<const Snapshot>> LoadSnapshotFolder(const std::filesystem::path& dir, uint64_t revision,
                                                           std::string store_id,
                                                           const policy::ExpressionLimits& expression_limits = {});

// A cheap fingerprint of the folder's files (paths, sizes and modification times), to notice
// edits without reading them. Changes whenever a file under `dir` is added, removed or written.
std::string FolderFingerprint(const std::filesystem::path& dir);

}  // namespace warden
