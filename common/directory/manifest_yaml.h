// Reading a manifest in the Topaz v3 YAML form:
//
//   model:
//     version: 3
//   types:
//     user: {}
//     group:
//       relations:
//         member: user | group#member
//     document:
//       relations:
//         owner: user
//         viewer: user | user:* | group#member
//       permissions:
//         can_view: viewer | owner
//
// See docs/manifest.md for the full language.
#pragma once

#include <string>
#include <string_view>

#include "common/directory/manifest_ast.h"
#include "common/util/status.h"

namespace warden::directory {

// Parses YAML text into a ManifestAst without validating names (CompileManifest does that).
// Errors are InvalidArgument "<source>:<line>:<col>: <reason>" (bad YAML, a missing or mistyped
// field, an unknown key, a bad relation or expression string).
Result<ManifestAst> ParseManifestYaml(std::string_view text, const std::string& source);

}  // namespace warden::directory
