// Partial evaluation: evaluate what is known, keep the rest as a Residual. Operator names and
// shapes follow Cerbos's query planner (internal/engine/planner/ast.go), so plans compare.
#include "common/cel/partial.h"

#include "common/cel/internal/compiled.h"

namespace warden::cel {
namespace {

using internal::EvalContext;
using internal::Expr;
using internal::Macro;
using internal::Op;

std::string_view PlanOperator(Op op) {
  switch (op) {
    case Op::kEq: return "eq";
    case Op::kNe: return "ne";
    case Op::kLt: return "lt";
    case Op::kLe: return "le";
    case Op::kGt: return "gt";
    case Op::kGe: return "ge";
    case Op::kIn: return "in";
    case Op::kAdd: return "add";
    case Op::kSub: return "sub";
    case Op::kMul: return "mult";
    case Op::kDiv: return "div";
    case Op::kMod: return "mod";
    case Op::kIndex: return "index";
    case Op::kNeg: return "neg";
    case Op::kNot: return "not";
    case Op::kAnd: return "and";
    case Op::kOr: return "or";
    case Op::kTernary: return "if";
    case Op::kList: return "list";
    case Op::kMap: return "struct";
    case Op::kHas: return "has";
    default: return "unknown";
  }
}

std::string_view MacroOperator(Macro m) {
  if (m == Macro::kOptMap) return "optMap";
  if (m == Macro::kOptFlatMap) return "optFlatMap";
  switch (m) {
    case Macro::kAll: return "all";
    case Macro::kExists: return "exists";
    case Macro::kExistsOne: return "exists_one";
    case Macro::kMap: return "map";
    case Macro::kFilter: return "filter";
    case Macro::kTransformList: return "transformList";
    case Macro::kTransformMap: return "transformMap";
    case Macro::kBind: return "bind";
    default: return "comprehension";
  }
}

class PartialEvaluator {
 public:
  PartialEvaluator(const Program::Impl& impl, EvalContext& ctx) : ctx_(ctx) {
    symbolic_.assign(impl.num_locals + 1, false);
  }

  Residual Run(const Expr& e) {
    if (++depth_guard_ > 10'000) return Residual::Known(Value::Error("partial evaluation too deep"));
    Residual r = Visit(e);
    --depth_guard_;
    return r;
  }

 private:
  static bool AllKnown(const std::vector<Residual>& rs) {
    for (const auto& r : rs) {
      if (!r.is_known()) return false;
    }
    return true;
  }

  // A node with no symbolic local below it can be evaluated directly: the evaluator itself turns
  // unknown attributes into unknown values, so a non-unknown result does not depend on them.
  bool TryEval(const Expr& e, Residual& out) {
    if (UsesSymbolic(e)) return false;
    Value v = internal::Eval(e, ctx_);
    if (v.is_unknown()) return false;
    out = Residual::Known(std::move(v));
    return true;
  }

  bool UsesSymbolic(const Expr& e) const {
    if (e.op == Op::kLocal) return symbolic_[e.slot];
    for (const auto& a : e.args) {
      if (a && UsesSymbolic(*a)) return true;
    }
    return false;
  }

  // The dotted path of a selection chain over a symbolic local or an unknown attribute.
  std::optional<std::string> SymbolicPath(const Expr& e) {
    if (e.op == Op::kLocal && symbolic_[e.slot]) return e.name;
    if (e.op == Op::kVar || e.op == Op::kSelect) {
      Value v = internal::Eval(e, ctx_);
      if (v.is_unknown()) return std::string(v.unknown_path());
      if (e.op == Op::kVar) return std::nullopt;
    }
    if (e.op == Op::kSelect) {
      auto base = SymbolicPath(*e.args[0]);
      if (base) return *base + "." + e.name;
    }
    return std::nullopt;
  }

  Residual Visit(const Expr& e) {
    Residual known;
    switch (e.op) {
      case Op::kConst: return Residual::Known(e.value);
      case Op::kLocal:
        if (symbolic_[e.slot]) return Residual::Variable(e.name);
        return Residual::Known(ctx_.locals[e.slot]);
      case Op::kVar:
      case Op::kSelect: {
        if (TryEval(e, known)) return known;
        if (auto path = SymbolicPath(e)) return Residual::Variable(*path);
        Residual base = Run(*e.args[0]);
        if (base.is_known()) {
          Value v = e.optional ? internal::OptionalSelect(base.value(), e.name) : internal::SelectField(base.value(), e.name);
          return Residual::Known(std::move(v));
        }
        return Residual::Call("get-field", {std::move(base), Residual::Variable(e.name)});
      }
      case Op::kAnd: return Residual::And(Run(*e.args[0]), Run(*e.args[1]));
      case Op::kOr: return Residual::Or(Run(*e.args[0]), Run(*e.args[1]));
      case Op::kNot: return Residual::Not(Run(*e.args[0]));
      case Op::kTernary: {
        Residual c = Run(*e.args[0]);
        if (c.is_known()) {
          if (c.value().kind() == Kind::kBool) return Run(*e.args[c.value().bool_value() ? 1 : 2]);
          return c;
        }
        return Residual::Call("if", {std::move(c), Run(*e.args[1]), Run(*e.args[2])});
      }
      case Op::kComprehension: return VisitComprehension(e);
      default: break;
    }
    if (TryEval(e, known) && (e.op != Op::kCall || e.fn->fold)) return known;
    std::vector<Residual> operands;
    operands.reserve(e.args.size());
    for (const auto& a : e.args) operands.push_back(Run(*a));
    if (e.op == Op::kHas) {
      // Cerbos's planner renders a presence test on an unknown attribute as true, leaving the
      // comparisons that use the attribute to filter; plans stay comparable with Cerbos's.
      return Residual::Known(Value::Bool(true));
    }
    if (e.op == Op::kMap) {
      std::vector<Residual> fields;
      for (size_t i = 0; i + 1 < operands.size(); i += 2) {
        fields.push_back(Residual::Call("set-field", {operands[i], operands[i + 1]}));
      }
      return Residual::Call("struct", std::move(fields));
    }
    if (e.op == Op::kCall) return Residual::Call(e.name, std::move(operands));
    return Residual::Call(std::string(PlanOperator(e.op)), std::move(operands));
  }

  Residual VisitComprehension(const Expr& e) {
    Residual known;
    if (TryEval(e, known)) return known;
    if (e.macro == Macro::kBind) {
      Residual init = Run(*e.args[0]);
      if (init.is_known()) {
        ctx_.locals[e.slot] = init.value();
        Residual body = Run(*e.args[1]);
        ctx_.locals[e.slot] = Value();
        return body;
      }
      symbolic_[e.slot] = true;
      Residual body = Run(*e.args[1]);
      symbolic_[e.slot] = false;
      return Residual::Call("bind", {Residual::Variable(e.var1), std::move(init), std::move(body)});
    }
    Residual range = Run(*e.args[0]);
    symbolic_[e.slot] = true;
    if (!e.var2.empty()) symbolic_[e.slot + 1] = true;
    std::vector<Residual> lambda_operands;
    for (size_t i = 1; i < e.args.size(); ++i) {
      if (e.args[i]) lambda_operands.push_back(Run(*e.args[i]));
    }
    symbolic_[e.slot] = false;
    if (!e.var2.empty()) symbolic_[e.slot + 1] = false;
    lambda_operands.push_back(Residual::Variable(e.var1));
    if (!e.var2.empty()) lambda_operands.push_back(Residual::Variable(e.var2));
    return Residual::Call(std::string(MacroOperator(e.macro)),
                          {std::move(range), Residual::Call("lambda", std::move(lambda_operands))});
  }

  EvalContext& ctx_;
  std::vector<bool> symbolic_;
  int depth_guard_ = 0;
};

}  // namespace

Residual PartialEvaluate(const Program& program, const Activation& activation) {
  const auto& impl = program.impl();
  EvalContext ctx;
  ctx.var_names = &impl.variables;
  return internal::WithFrame(impl, activation, ctx, [&] {
    PartialEvaluator pe(impl, ctx);
    Residual r = pe.Run(*impl.root);
    if (ctx.exhausted) return Residual::Known(internal::CostExceeded());
    return r;
  });
}

}  // namespace warden::cel
