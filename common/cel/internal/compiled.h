// Program::Impl: the compiled form of one expression. Internal to common/cel.
#pragma once

#include <memory>
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
  Value inline_locals[kInlineLocals];
  std::vector<const Value*> heap_vars;
  std::vector<Value> heap_locals;
  const Value** vars = inline_vars;
  Value* locals = inline_locals;
  if (impl.variables.size() > kInlineVars) {
    heap_vars.resize(impl.variables.size());
    vars = heap_vars.data();
  }
  if (impl.num_locals > kInlineLocals) {
    heap_locals.resize(impl.num_locals);
    locals = heap_locals.data();
  }
  for (size_t i = 0; i < impl.variables.size(); ++i) vars[i] = activation.Find(impl.variables[i]);
  ctx.activation = &activation;
  ctx.max_cost = activation.max_cost();
  ctx.vars = vars;
  ctx.locals = locals;
  return body();
}

}  // namespace internal
}  // namespace warden::cel
