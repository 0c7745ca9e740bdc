// CEL optional values (optional.of/none, `.?field`, `[?index]`, optional list and map entries),
// an opaque value of type optional_type.
#pragma once

#include <optional>

#include "common/cel/value.h"

namespace warden::cel::internal {

Value MakeOptional(std::optional<Value> inner);
// The optional's content (nullopt for none), or nullptr when `v` is not an optional.
const std::optional<Value>* AsOptional(const Value& v);

}  // namespace warden::cel::internal
