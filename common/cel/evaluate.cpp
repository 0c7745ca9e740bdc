#include "common/cel/evaluate.h"

#include <array>

#include "common/cel/internal/compiled.h"
#include "common/cel/internal/optional.h"

namespace warden::cel {
namespace internal {
namespace {

// When the activation marks unknown attributes, whether the chain `e` (a kVar or kSelect over
// one) lies under one of them; returns the unknown value to use.
bool UnknownFor(const Expr& e, const EvalContext& ctx, const std::vector<std::string>& names, Value& out) {
  // Build the dotted path from the root variable.
  const Expr* chain[64];
  size_t n = 0;
  const Expr* cur = &e;
  while (cur->op == Op::kSelect && n < 64) {
    chain[n++] = cur;
    cur = cur->args[0].get();
  }
  if (cur->op != Op::kVar) return false;
  std::string path = names[cur->slot];
  for (const auto& u : ctx.activation->unknown_paths()) {
    std::string p = path;
    size_t i = n;
    while (true) {
      if (p == u.path) {
        std::string rendered = u.canonical.empty() ? u.path : u.canonical;
        for (size_t j = i; j > 0; --j) rendered += "." + chain[j - 1]->name;
        out = Value::Unknown(std::move(rendered));
        return true;
      }
      if (i == 0) break;
      p += "." + chain[--i]->name;
    }
  }
  return false;
}

// The value of a constant, a local, or a variable-rooted chain of map field selections, by
// pointer into the bindings (no copy, no reference-count traffic); nullptr when the node is
// anything else or the chain does not resolve (the caller then evaluates it to get the error).
const Value* Lookup(const Expr& e, EvalContext& ctx) {
  switch (e.op) {
    case Op::kConst: return &e.value;
    case Op::kLocal: return &ctx.locals[e.slot];
    case Op::kVar:
      if (!ctx.activation->unknown_paths().empty()) return nullptr;
      return ctx.vars[e.slot];
    case Op::kSelect: {
      if (e.optional) return nullptr;
      const Value* base = Lookup(*e.args[0], ctx);
      if (base == nullptr || base->kind() != Kind::kMap) return nullptr;
      ctx.Charge(1);
      return base->map_value().FindString(e.name);
    }
    default: return nullptr;
  }
}

Value EvalAnd(const Expr& e, EvalContext& ctx) {
  Value a = Eval(*e.args[0], ctx);
  if (a.kind() == Kind::kBool && !a.bool_value()) return a;
  Value b = Eval(*e.args[1], ctx);
  if (b.kind() == Kind::kBool) {
    if (!b.bool_value()) return b;
    if (a.kind() == Kind::kBool) return b;
  }
  if (ctx.exhausted) return CostExceeded();
  if (a.is_unknown()) return a;
  if (b.is_unknown()) return b;
  if (a.is_error()) return a;
  if (b.is_error()) return b;
  Value args[2] = {a, b};
  return NoOverload("_&&_", args);
}

Value EvalOr(const Expr& e, EvalContext& ctx) {
  Value a = Eval(*e.args[0], ctx);
  if (a.kind() == Kind::kBool && a.bool_value()) return a;
  Value b = Eval(*e.args[1], ctx);
  if (b.kind() == Kind::kBool) {
    if (b.bool_value()) return b;
    if (a.kind() == Kind::kBool) return b;
  }
  if (ctx.exhausted) return CostExceeded();
  if (a.is_unknown()) return a;
  if (b.is_unknown()) return b;
  if (a.is_error()) return a;
  if (b.is_error()) return b;
  Value args[2] = {a, b};
  return NoOverload("_||_", args);
}

Value EvalCall(const Expr& e, EvalContext& ctx) {
  constexpr size_t kInline = 6;
  size_t n = e.args.size();
  std::array<Value, kInline> inline_args;
  std::vector<Value> heap_args;
  Value* args = inline_args.data();
  if (n > kInline) {
    heap_args.resize(n);
    args = heap_args.data();
  }
  for (size_t i = 0; i < n; ++i) {
    args[i] = Eval(*e.args[i], ctx);
    if (args[i].is_exceptional()) return args[i];
  }
  return e.fn->fn(std::span<const Value>(args, n), ctx, e);
}

// Iterates a comprehension's range, calling step(key_or_index, value) until it returns false.
template <typename Step>
Value ForEach(const Value& range, bool two_vars, Step&& step) {
  if (range.kind() == Kind::kList) {
    const auto& l = range.list_value();
    for (size_t i = 0; i < l.size(); ++i) {
      if (!step(Value::Int(static_cast<int64_t>(i)), l[i])) break;
    }
    return Value::Null();
  }
  if (range.kind() == Kind::kMap) {
    for (const auto& [k, v] : range.map_value().entries()) {
      if (!step(k, v)) break;
    }
    return Value::Null();
  }
  (void)two_vars;
  Value args[1] = {range};
  return NoOverload("comprehension range", args);
}

Value EvalComprehension(const Expr& e, EvalContext& ctx) {
  if (e.macro == Macro::kBind) {
    ctx.locals[e.slot] = Eval(*e.args[0], ctx);
    Value out = Eval(*e.args[1], ctx);
    ctx.locals[e.slot] = Value();
    return out;
  }
  if (e.macro == Macro::kOptMap || e.macro == Macro::kOptFlatMap) {
    Value target = Eval(*e.args[0], ctx);
    if (target.is_exceptional()) return target;
    const auto* o = AsOptional(target);
    if (o == nullptr) {
      Value a[1] = {target};
      return NoOverload(e.macro == Macro::kOptMap ? "optMap" : "optFlatMap", a);
    }
    if (!o->has_value()) return target;
    ctx.locals[e.slot] = **o;
    Value out = Eval(*e.args[1], ctx);
    ctx.locals[e.slot] = Value();
    if (out.is_exceptional()) return out;
    if (e.macro == Macro::kOptMap) return MakeOptional(out);
    if (AsOptional(out) == nullptr) return Value::Error("optFlatMap() expression did not return an optional");
    return out;
  }
  Value range = Eval(*e.args[0], ctx);
  if (range.is_exceptional()) return range;
  const bool two = !e.var2.empty();
  const bool is_map = range.kind() == Kind::kMap;
  // Binds the iteration variables: one-variable forms see list elements or map keys; two-variable
  // forms see (index, element) or (key, value).
  auto bind = [&](const Value& k, const Value& v) {
    if (two) {
      ctx.locals[e.slot] = k;
      ctx.locals[e.slot + 1] = v;
    } else {
      ctx.locals[e.slot] = is_map ? k : v;
    }
  };
  Value result;
  Value pending_error;
  switch (e.macro) {
    case Macro::kAll:
    case Macro::kExists: {
      const bool want = e.macro == Macro::kExists;  // the value that decides
      bool decided = false;
      Value err = ForEach(range, two, [&](const Value& k, const Value& v) {
        if (!ctx.Charge(1)) return false;
        bind(k, v);
        Value p = Eval(*e.args[1], ctx);
        if (p.kind() == Kind::kBool) {
          if (p.bool_value() == want) {
            decided = true;
            return false;
          }
        } else if (pending_error.is_null()) {
          if (p.is_exceptional()) {
            pending_error = p;
          } else {
            Value a[1] = {p};
            pending_error = NoOverload(want ? "exists" : "all", a);
          }
        }
        return true;
      });
      if (err.is_error()) return err;
      if (ctx.exhausted) return CostExceeded();
      if (decided) return Value::Bool(want);
      if (!pending_error.is_null()) return pending_error;
      return Value::Bool(!want);
    }
    case Macro::kExistsOne: {
      int64_t count = 0;
      Value err = ForEach(range, two, [&](const Value& k, const Value& v) {
        if (!ctx.Charge(1)) return false;
        bind(k, v);
        Value p = Eval(*e.args[1], ctx);
        if (p.kind() != Kind::kBool) {
          if (p.is_exceptional()) {
            pending_error = p;
          } else {
            Value a[1] = {p};
            pending_error = NoOverload("exists_one", a);
          }
          return false;
        }
        if (p.bool_value()) ++count;
        return true;
      });
      if (err.is_error()) return err;
      if (ctx.exhausted) return CostExceeded();
      if (!pending_error.is_null()) return pending_error;
      return Value::Bool(count == 1);
    }
    case Macro::kMap:
    case Macro::kFilter:
    case Macro::kTransformList: {
      ListValue out;
      const Expr* filter = e.macro == Macro::kFilter ? e.args[1].get() : e.args[1].get();
      const Expr* transform = e.macro == Macro::kFilter ? nullptr : e.args[2].get();
      Value err = ForEach(range, two, [&](const Value& k, const Value& v) {
        if (!ctx.Charge(1)) return false;
        bind(k, v);
        if (filter != nullptr) {
          Value p = Eval(*filter, ctx);
          if (p.kind() != Kind::kBool) {
            if (p.is_exceptional()) {
              pending_error = p;
            } else {
              Value a[1] = {p};
              pending_error = NoOverload("filter", a);
            }
            return false;
          }
          if (!p.bool_value()) return true;
        }
        if (transform == nullptr) {
          out.push_back(two ? v : (is_map ? k : v));
        } else {
          Value t = Eval(*transform, ctx);
          if (t.is_exceptional()) {
            pending_error = t;
            return false;
          }
          out.push_back(std::move(t));
        }
        return true;
      });
      if (err.is_error()) return err;
      if (ctx.exhausted) return CostExceeded();
      if (!pending_error.is_null()) return pending_error;
      return Value::List(std::move(out));
    }
    case Macro::kTransformMap: {
      std::vector<std::pair<Value, Value>> out;
      if (range.kind() != Kind::kMap && range.kind() != Kind::kList) {
        Value a[1] = {range};
        return NoOverload("transformMap", a);
      }
      Value err = ForEach(range, two, [&](const Value& k, const Value& v) {
        if (!ctx.Charge(1)) return false;
        bind(k, v);
        if (e.args[1]) {
          Value p = Eval(*e.args[1], ctx);
          if (p.kind() != Kind::kBool) {
            pending_error = p.is_exceptional() ? p : Value::Error("transformMap filter is not a bool");
            return false;
          }
          if (!p.bool_value()) return true;
        }
        Value t = Eval(*e.args[2], ctx);
        if (t.is_exceptional()) {
          pending_error = t;
          return false;
        }
        out.emplace_back(k, std::move(t));
        return true;
      });
      if (err.is_error()) return err;
      if (ctx.exhausted) return CostExceeded();
      if (!pending_error.is_null()) return pending_error;
      return Value::Map(std::move(out));
    }
    default: return Value::Error("internal: unknown comprehension");
  }
}

}  // namespace

Value Eval(const Expr& e, EvalContext& ctx) {
  if (!ctx.Charge(1)) return CostExceeded();
  switch (e.op) {
    case Op::kConst: return e.value;
    case Op::kVar: {
      if (!ctx.activation->unknown_paths().empty()) {
        Value u;
        if (UnknownFor(e, ctx, *ctx.var_names, u)) return u;
      }
      const Value* v = ctx.vars[e.slot];
      if (v == nullptr) return Value::Error("no value bound for variable '" + e.name + "'");
      return *v;
    }
    case Op::kLocal: return ctx.locals[e.slot];
    case Op::kSelect: {
      if (!ctx.activation->unknown_paths().empty()) {
        Value u;
        if (UnknownFor(e, ctx, *ctx.var_names, u)) return u;
      }
      // Select directly on a variable without copying the variable's value.
      const Expr& operand = *e.args[0];
      if (operand.op == Op::kVar && ctx.activation->unknown_paths().empty() && !e.optional) {
        const Value* v = ctx.vars[operand.slot];
        if (v == nullptr) return Value::Error("no value bound for variable '" + operand.name + "'");
        return SelectField(*v, e.name);
      }
      Value base = Eval(operand, ctx);
      if (base.is_exceptional()) return base;
      return e.optional ? OptionalSelect(base, e.name) : SelectField(base, e.name);
    }
    case Op::kHas: {
      Value base = Eval(*e.args[0], ctx);
      if (base.is_exceptional()) return base;
      return HasField(base, e.name);
    }
    case Op::kCall: return EvalCall(e, ctx);
    case Op::kList: {
      if (!ctx.ChargeSize(e.args.size())) return CostExceeded();
      ListValue items;
      items.reserve(e.args.size());
      for (const auto& a : e.args) {
        Value v = Eval(*a, ctx);
        if (v.is_exceptional()) return v;
        if (a->op == Op::kOptionalEntry) {
          const auto* o = AsOptional(v);
          if (o == nullptr) return Value::Error("optional list element is not an optional");
          if (o->has_value()) items.push_back(**o);
          continue;
        }
        items.push_back(std::move(v));
      }
      return Value::List(std::move(items));
    }
    case Op::kMap: {
      if (!ctx.ChargeSize(e.args.size())) return CostExceeded();
      std::vector<std::pair<Value, Value>> entries;
      entries.reserve(e.args.size() / 2);
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        Value k = Eval(*e.args[i], ctx);
        if (k.is_exceptional()) return k;
        Value v = Eval(*e.args[i + 1], ctx);
        if (v.is_exceptional()) return v;
        if (e.args[i + 1]->op == Op::kOptionalEntry) {
          const auto* o = AsOptional(v);
          if (o == nullptr) return Value::Error("optional map entry value is not an optional");
          if (!o->has_value()) continue;
          v = **o;
        }
        entries.emplace_back(std::move(k), std::move(v));
      }
      return Value::Map(std::move(entries));
    }
    case Op::kComprehension: return EvalComprehension(e, ctx);
    case Op::kOptionalEntry: return Eval(*e.args[0], ctx);
    case Op::kAnd: return EvalAnd(e, ctx);
    case Op::kOr: return EvalOr(e, ctx);
    case Op::kNot: {
      Value a = Eval(*e.args[0], ctx);
      if (a.is_exceptional()) return a;
      return ApplyNot(a);
    }
    case Op::kNeg: {
      Value a = Eval(*e.args[0], ctx);
      if (a.is_exceptional()) return a;
      return ApplyNeg(a);
    }
    case Op::kTernary: {
      Value c = Eval(*e.args[0], ctx);
      if (c.kind() == Kind::kBool) return Eval(*e.args[c.bool_value() ? 1 : 2], ctx);
      if (c.is_exceptional()) return c;
      Value a[1] = {c};
      return NoOverload("_?_:_", a);
    }
    case Op::kIndex:
      if (e.optional) {
        Value a = Eval(*e.args[0], ctx);
        if (a.is_exceptional()) return a;
        Value b = Eval(*e.args[1], ctx);
        if (b.is_exceptional()) return b;
        return OptionalIndexOp(a, b);
      }
      [[fallthrough]];
    default: {
      // Binary operators. Operands that are paths into the bindings are read in place.
      Value a_storage, b_storage;
      const Value* a = Lookup(*e.args[0], ctx);
      if (a == nullptr) {
        a_storage = Eval(*e.args[0], ctx);
        if (a_storage.is_exceptional()) return a_storage;
        a = &a_storage;
      }
      const Value* b = Lookup(*e.args[1], ctx);
      if (b == nullptr) {
        b_storage = Eval(*e.args[1], ctx);
        if (b_storage.is_exceptional()) return b_storage;
        b = &b_storage;
      }
      if (a->is_exceptional()) return *a;
      if (b->is_exceptional()) return *b;
      return ApplyBinary(e.op, *a, *b, ctx);
    }
  }
}

}  // namespace internal

Value Evaluate(const Program& program, const Activation& activation) {
  const auto& impl = program.impl();
  internal::EvalContext ctx;
  ctx.var_names = &impl.variables;
  return internal::WithFrame(impl, activation, ctx, [&] {
    Value out = internal::Eval(*impl.root, ctx);
    if (ctx.exhausted) return internal::CostExceeded();
    return out;
  });
}

}  // namespace warden::cel
