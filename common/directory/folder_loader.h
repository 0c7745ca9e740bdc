// Loading the directory part of a standalone folder (design.md, "Standalone mode"):
//
//   DIR/manifest.yaml  or  DIR/schema.zed   the model (neither: Topaz's built-in model)
//   DIR/data/**.json    {"objects": [...], "relations": [...]}
//   DIR/data/**.jsonl   one object or relation per line (a line with "relation" is a relation)
//
// Files are read in path order, so a later object record replaces an earlier one.
#pragma once

#include <filesystem>
#include <memory>

#include "common/directory/snapshot.h"
#include "common/util/status.h"

namespace warden::directory {

// Reads the folder into a snapshot at `revision`. Every bad item is reported, not just the
// first: on failure the InvalidArgument message has one line per problem,
// "data/users.jsonl:12: relation 'document#viewer' does not allow subject 'group' (...)"
// (JSON files name the item instead: "data/seed.json: relations[3]: ..."), up to 100 lines.
// Having both manifest.yaml and schema.zed is an error; a missing data/ folder is not.
Result<std::shared_ptr<const DirectorySnapshot>> LoadDirectoryFolder(const std::filesystem::path& dir,
                                                                     uint64_t revision = 1);

// Reads just the manifest of a folder: nullopt when it has none.
Result<std::optional<ManifestSource>> ReadFolderManifest(const std::filesystem::path& dir);

}  // namespace warden::directory
