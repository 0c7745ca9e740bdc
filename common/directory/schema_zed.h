// Reading a manifest written in SpiceDB's schema language (a .zed file):
//
//   definition user {}
//   definition group {
//     relation member: user | group#member
//   }
//   definition document {
//     relation viewer: user | user:* | group#member
//     relation banned: user
//     permission view = viewer - banned
//   }
//
// Supported: definitions, relations with subject types (type, type#relation, type:*), permissions
// over `+`, `&`, `-`, `->` and parentheses, `//` and `/* */` comments. Refused with a clear error:
// caveats (`caveat`, `with`), `nil`, and arrow functions (`.any()`, `.all()`).
#pragma once

#include <string>
#include <string_view>

#include "common/directory/manifest_ast.h"
#include "common/util/status.h"

namespace warden::directory {

// Parses schema text into a ManifestAst. Errors: InvalidArgument "<source>:<line>:<col>: <reason>".
Result<ManifestAst> ParseSchemaZed(std::string_view text, const std::string& source);

}  // namespace warden::directory
