// Token-level rewriting of Cerbos CEL conditions before they are compiled.
//
// Cerbos conditions may spell the same thing several ways (request.resource / R, variables / V,
// constants / C, globals / G) and refer to policy variables by name. The compiled form wants one
// spelling and no indirection, so that evaluation binds five values and query plans see the
// variables' own expressions:
//   request.principal -> P, request.resource -> R, constants -> C, globals -> G,
//   V.name / variables.name -> (the variable's expression, itself rewritten).
// String literals are left untouched, and so is any identifier that follows a '.' (a field).
#pragma once

#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::policy {

struct RewriteError {
  size_t offset = 0;  // byte offset in the source being rewritten (the top-level one)
  std::string message;
};

struct RewriteResult {
  std::string text;
  std::vector<RewriteError> errors;  // undefined or cyclic variables
};

// `lookup(name)` returns the source of variable `name`, or nullopt when it is not defined.
using VariableLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Rewrites `source` as described above; variables are expanded recursively (a cycle is an error).
// Expansion stops with an error naming the variable once the text pasted in for variables would
// pass `max_length` bytes, so the work is bounded by the limit, not by how the variables nest.
RewriteResult RewriteCondition(std::string_view source, const VariableLookup& lookup,
                               size_t max_length = std::numeric_limits<size_t>::max());

// The attribute names `R.attr.<name>` that a rewritten condition reads (string literals
// skipped), in order of first appearance.
std::vector<std::string> ResourceAttrNames(std::string_view rewritten);

}  // namespace warden::policy
