// The per-evaluation state shared by the evaluator, the operators and the builtin functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/cel/activation.h"
#include "common/cel/internal/ast.h"
#include "common/cel/value.h"

namespace warden::cel::internal {

struct EvalContext {
  const Activation* activation = nullptr;
  uint64_t cost = 0;
  uint64_t max_cost = 1'000'000;
  bool exhausted = false;
  const Value* const* vars = nullptr;  // by variable slot; nullptr entries are unbound
  Value* locals = nullptr;             // by local slot
  const std::vector<std::string>* var_names = nullptr;  // by variable slot

  // Charges `units`; false (and the context marked exhausted) once the budget is spent.
  bool Charge(uint64_t units) {
    cost += units;
    if (cost > max_cost) exhausted = true;
    return !exhausted;
  }
  // Charges for building a string or list of `size` bytes/elements before it is allocated.
  bool ChargeSize(size_t size) { return Charge(1 + size / 64); }
};

Value CostExceeded();
Value NoOverload(std::string_view function, std::span<const Value> args);

using BuiltinFn = Value (*)(std::span<const Value> args, EvalContext& ctx, const Expr& call);
// Runs once at compile time when a call is resolved, e.g. to compile a constant regex into
// call.aux. A non-ok Status is a compile error.
using PrepareFn = Status (*)(Expr& call);

struct Builtin {
  std::string_view name;
  bool global;    // callable as f(a, b)
  bool receiver;  // callable as a.f(b); args[0] is then the target
  int min_args;   // counting the target
  int max_args;
  BuiltinFn fn;
  PrepareFn prepare = nullptr;
  bool pure = true;  // false: depends on the activation (now, check) and is never folded
  bool fold = true;  // false: keep the call in residuals even when its arguments are known
};

// The builtin for `name` called with `nargs` arguments (target included), or nullptr.
const Builtin* FindBuiltin(std::string_view name, bool receiver, size_t nargs);
// Whether any builtin has this name (to tell "unknown function" from "wrong arity").
bool HasBuiltinNamed(std::string_view name);

// Operators, shared by the evaluator and the partial evaluator. Operands are never
// error/unknown (the callers propagate those first).
Value ApplyBinary(Op op, const Value& a, const Value& b, EvalContext& ctx);
Value ApplyNeg(const Value& a);
Value ApplyNot(const Value& a);
Value SelectField(const Value& operand, std::string_view field);
Value HasField(const Value& operand, std::string_view field);
// `.?field` and `[?index]`: optional.of(the value) or optional.none().
Value OptionalSelect(const Value& operand, std::string_view field);
Value OptionalIndexOp(const Value& container, const Value& index);

}  // namespace warden::cel::internal
