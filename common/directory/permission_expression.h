// Parser for permission expressions, shared by both manifest languages.
//
//   expr    := inter ( ('|' | '+') inter )*
//   inter   := excl ( '&' excl )*
//   excl    := term ( '-' term )*          (left-associative: a - b - c = (a - b) - c)
//   term    := name [ '->' name ] | '(' expr ')'
//   name    := [A-Za-z_][A-Za-z0-9_]*
//
// This is SpiceDB's precedence (exclusion binds tightest, then intersection, then union), so a
// schema means the same in both languages.
#pragma once

#include <string>
#include <string_view>

#include "common/directory/manifest_ast.h"
#include "common/util/status.h"

namespace warden::directory {

// Parses `text`, which starts at `start` in the file `source` (for positions in errors and in the
// returned tree; columns advance along the text, lines advance at newlines). On a syntax error,
// InvalidArgument "<source>:<line>:<col>: <reason>".
Result<ExprAst> ParsePermissionExpression(std::string_view text, const std::string& source, SourcePos start);

}  // namespace warden::directory
