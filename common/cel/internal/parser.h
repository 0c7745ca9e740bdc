// CEL text to expression tree: lexer and recursive-descent parser with macro expansion.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/cel/internal/ast.h"
#include "common/util/status.h"

namespace warden::cel::internal {

// "line:column" (1-based) of a byte offset, counting columns in code points.
std::string Position(std::string_view source, uint32_t offset);

// Parses `source`. Errors are InvalidArgument "line:col: reason" or ResourceExhausted when the
// tree would be deeper than max_depth.
Result<std::unique_ptr<Expr>> Parse(std::string_view source, int max_depth);

}  // namespace warden::cel::internal
