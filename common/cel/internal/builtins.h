// Registration of the builtin function families. Each builtins_*.cpp adds its own.
#pragma once

#include <vector>

#include "common/cel/internal/eval_context.h"

namespace warden::cel::internal {

void RegisterCoreBuiltins(std::vector<Builtin>& out);     // size, conversions, type, dyn, matches, ...
void RegisterStringBuiltins(std::vector<Builtin>& out);   // cel-go strings extension
void RegisterTimeBuiltins(std::vector<Builtin>& out);     // timestamp/duration accessors, now()
void RegisterMathBuiltins(std::vector<Builtin>& out);     // math.* extension
void RegisterCerbosBuiltins(std::vector<Builtin>& out);   // hierarchy, sets, IP ranges, check()
void RegisterNetworkBuiltins(std::vector<Builtin>& out);  // ip(), cidr(); base64
void RegisterOptionalBuiltins(std::vector<Builtin>& out); // optional.of/none, hasValue, value, orValue, or

// Helpers for implementations.
inline Value Err(std::string message) { return Value::Error(std::move(message)); }

}  // namespace warden::cel::internal
