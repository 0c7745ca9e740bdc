// Evaluating a compiled Program against an Activation.
#pragma once

#include "common/cel/activation.h"
#include "common/cel/program.h"
#include "common/cel/value.h"

namespace warden::cel {

// Evaluates `program`. The result is the expression's value, or an error Value when evaluation
// failed (no such key, no matching overload, overflow, division by zero, an unbound variable,
// cost limit exceeded, ...): CEL errors are values, absorbed by `&&`, `||` and `?:` where the
// other operand decides. An attribute the activation marks unknown evaluates to an unknown Value
// (see partial.h for turning such expressions into residuals). Never throws for bad data, never loops unboundedly, and its recursion is
// bounded by the compile-time depth limit. Thread-safe for a shared Program.
Value Evaluate(const Program& program, const Activation& activation);

}  // namespace warden::cel
