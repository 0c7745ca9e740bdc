// Program::Impl: the compiled form of one expression. Internal to common/cel.
#pragma once

#include <memory>
#include <new>
#include <string>
#include <vector>

#include "common/cel/internal/ast.h"
#include "common/cel/internal/eval_context.h"
#include "common/cel/program.h"

namespace warden::cel {

struct Program::Impl {
  std::string source;
  std::unique_ptr<internal::Expr> root;
  std::vector<std::string> variables;  // by slot
  uint32_t num_locals = 0;
};

namespace internal {

// Evaluates a resolved expression tree. Recursion depth is bounded by the tree's height.
Value Eval(const Expr& e, EvalContext& ctx);

// Runs `body` with ctx.vars/ctx.locals set up for `impl` and `activation`, without allocating
// for up to 16 variables and 16 locals.
template <typename F>
auto WithFrame(const Program::Impl& impl, const Activation& activation, EvalContext& ctx, F&& body) {
  constexpr size_t kInlineVars = 16, kInlineLocals = 16;
  const Value* inline_vars[kInlineVars];
  // Only the locals the program uses are constructed (most programs have none).
  alignas(Value) unsigned char local_bytes[kInlineLocals * sizeof(Value)];
  std::vector<const Value*> heap_vars;
  std::vector<Value> heap_locals;
  const Value** vars = inline_vars;
  Value* locals = reinterpret_cast<Value*>(local_bytes);
  if (impl.variables.size() > kInlineVars) {
    heap_vars.resize(impl.variables.size());
    vars = heap_vars.data();
  }
  const bool inline_locals = impl.num_locals <= kInlineLocals;
  if (inline_locals) {
    for (uint32_t i = 0; i < impl.num_locals; ++i) new (&locals[i]) Value();
  } else {
    heap_locals.resize(impl.num_locals);
    locals = heap_locals.data();
  }
  struct DestroyLocals {
    Value* locals;
    uint32_t n;
    ~DestroyLocals() {
      for (uint32_t i = 0; i < n; ++i) locals[i].~Value();
    }
  } destroy{locals, inline_locals ? impl.num_locals : 0};
  for (size_t i = 0; i < impl.variables.size(); ++i) vars[i] = activation.Find(impl.variables[i]);
  ctx.activation = &activation;
  ctx.max_cost = activation.max_cost();
  ctx.vars = vars;
  ctx.locals = locals;
  return body();
}

}  // namespace internal
}  // namespace warden::cel
