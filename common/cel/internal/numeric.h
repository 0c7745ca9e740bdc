// Numeric helpers shared by the value model and the functions: CEL's cross-type numeric
// equality and ordering, checked 64-bit arithmetic, and double rendering.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/cel/value.h"

namespace warden::cel::internal {

inline bool IsNumeric(Kind k) { return k == Kind::kInt || k == Kind::kUint || k == Kind::kDouble; }

// REQUIRES: both numeric. Exact comparison (no rounding of int64 through double).
bool NumericEqual(const Value& a, const Value& b);
// nullopt when a NaN is involved.
std::optional<int> NumericCompare(const Value& a, const Value& b);

// Shortest round-trip rendering as CEL's string(double) gives it: "1.5", "1e+20", "NaN", "+Inf".
std::string FormatDouble(double d);
// A CEL string literal with escapes: "a\"b\n".
std::string QuoteString(std::string_view s);

// Whether a double lies in the range convertible to int64 / uint64 (CEL errors outside it).
bool DoubleFitsInt64(double d);
bool DoubleFitsUint64(double d);

}  // namespace warden::cel::internal
