// Cerbos's hierarchy type ("a.b.c" split into segments), an opaque value of type
// cerbos.lib.hierarchy with size() and indexing.
#pragma once

#include <string>
#include <vector>

#include "common/cel/value.h"

namespace warden::cel::internal {

Value MakeHierarchy(std::vector<std::string> segments);
// The segments, or nullptr when `v` is not a hierarchy.
const std::vector<std::string>* AsHierarchy(const Value& v);

}  // namespace warden::cel::internal
