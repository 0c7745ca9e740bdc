// CEL's operators: arithmetic with overflow checks, comparison, membership, indexing and
// field selection.
#include <cmath>
#include <limits>

#include "common/cel/internal/eval_context.h"
#include "common/cel/internal/hierarchy.h"
#include "common/cel/internal/numeric.h"
#include "common/cel/internal/optional.h"
#include "common/cel/internal/time_util.h"

namespace warden::cel::internal {
namespace {

std::string_view OpName(Op op) {
  switch (op) {
    case Op::kAdd: return "_+_";
    case Op::kSub: return "_-_";
    case Op::kMul: return "_*_";
    case Op::kDiv: return "_/_";
    case Op::kMod: return "_%_";
    case Op::kLt: return "_<_";
    case Op::kLe: return "_<=_";
    case Op::kGt: return "_>_";
    case Op::kGe: return "_>=_";
    case Op::kIn: return "@in";
    case Op::kIndex: return "_[_]";
    case Op::kEq: return "_==_";
    case Op::kNe: return "_!=_";
    default: return "operator";
  }
}

Value Overflow() { return Value::Error("return error for overflow"); }

Value Binary(Op op, const Value& a, const Value& b) {
  Value args[2] = {a, b};
  return NoOverload(OpName(op), args);
}

Value AddValues(const Value& a, const Value& b, EvalContext& ctx) {
  Kind ka = a.kind(), kb = b.kind();
  if (ka == Kind::kInt && kb == Kind::kInt) {
    int64_t r;
    if (__builtin_add_overflow(a.int_value(), b.int_value(), &r)) return Overflow();
    return Value::Int(r);
  }
  if (ka == Kind::kUint && kb == Kind::kUint) {
    uint64_t r;
    if (__builtin_add_overflow(a.uint_value(), b.uint_value(), &r)) return Overflow();
    return Value::Uint(r);
  }
  if (ka == Kind::kDouble && kb == Kind::kDouble) return Value::Double(a.double_value() + b.double_value());
  if ((ka == Kind::kString && kb == Kind::kString) || (ka == Kind::kBytes && kb == Kind::kBytes)) {
    size_t size = a.string_value().size() + b.string_value().size();
    if (!ctx.ChargeSize(size)) return CostExceeded();
    std::string s;
    s.reserve(size);
    s.append(a.string_value());
    s.append(b.string_value());
    return ka == Kind::kString ? Value::String(std::move(s)) : Value::Bytes(std::move(s));
  }
  if (ka == Kind::kList && kb == Kind::kList) {
    const auto& la = a.list_value();
    const auto& lb = b.list_value();
    if (lb.empty()) return a;
    if (la.empty()) return b;
    if (!ctx.ChargeSize(la.size() + lb.size())) return CostExceeded();
    ListValue out;
    out.reserve(la.size() + lb.size());
    out.insert(out.end(), la.begin(), la.end());
    out.insert(out.end(), lb.begin(), lb.end());
    return Value::List(std::move(out));
  }
  if (ka == Kind::kTimestamp && kb == Kind::kDuration) {
    Timestamp t;
    auto ta = a.timestamp_value();
    auto db = b.duration_value();
    if (!NormalizeTimestamp(TotalNanos(ta.seconds, ta.nanos) + TotalNanos(db.seconds, db.nanos), t)) return Overflow();
    return Value::TimestampOf(t);
  }
  if (ka == Kind::kDuration && kb == Kind::kTimestamp) return AddValues(b, a, ctx);
  if (ka == Kind::kDuration && kb == Kind::kDuration) {
    Duration d;
    auto da = a.duration_value();
    auto db = b.duration_value();
    if (!NormalizeDuration(TotalNanos(da.seconds, da.nanos) + TotalNanos(db.seconds, db.nanos), d)) return Overflow();
    return Value::DurationOf(d);
  }
  return Binary(Op::kAdd, a, b);
}

Value SubValues(const Value& a, const Value& b) {
  Kind ka = a.kind(), kb = b.kind();
  if (ka == Kind::kInt && kb == Kind::kInt) {
    int64_t r;
    if (__builtin_sub_overflow(a.int_value(), b.int_value(), &r)) return Overflow();
    return Value::Int(r);
  }
  if (ka == Kind::kUint && kb == Kind::kUint) {
    uint64_t r;
    if (__builtin_sub_overflow(a.uint_value(), b.uint_value(), &r)) return Overflow();
    return Value::Uint(r);
  }
  if (ka == Kind::kDouble && kb == Kind::kDouble) return Value::Double(a.double_value() - b.double_value());
  if (ka == Kind::kTimestamp && kb == Kind::kTimestamp) {
    Duration d;
    auto ta = a.timestamp_value();
    auto tb = b.timestamp_value();
    __int128 diff = TotalNanos(ta.seconds, ta.nanos) - TotalNanos(tb.seconds, tb.nanos);
    // cel-go represents this difference as a Go time.Duration: 64-bit nanoseconds.
    if (diff > std::numeric_limits<int64_t>::max() || diff < std::numeric_limits<int64_t>::min()) return Overflow();
    if (!NormalizeDuration(diff, d)) return Overflow();
    return Value::DurationOf(d);
  }
  if (ka == Kind::kTimestamp && kb == Kind::kDuration) {
    Timestamp t;
    auto ta = a.timestamp_value();
    auto db = b.duration_value();
    if (!NormalizeTimestamp(TotalNanos(ta.seconds, ta.nanos) - TotalNanos(db.seconds, db.nanos), t)) return Overflow();
    return Value::TimestampOf(t);
  }
  if (ka == Kind::kDuration && kb == Kind::kDuration) {
    Duration d;
    auto da = a.duration_value();
    auto db = b.duration_value();
    if (!NormalizeDuration(TotalNanos(da.seconds, da.nanos) - TotalNanos(db.seconds, db.nanos), d)) return Overflow();
    return Value::DurationOf(d);
  }
  return Binary(Op::kSub, a, b);
}

Value MulValues(const Value& a, const Value& b) {
  Kind ka = a.kind(), kb = b.kind();
  if (ka == Kind::kInt && kb == Kind::kInt) {
    int64_t r;
    if (__builtin_mul_overflow(a.int_value(), b.int_value(), &r)) return Overflow();
    return Value::Int(r);
  }
  if (ka == Kind::kUint && kb == Kind::kUint) {
    uint64_t r;
    if (__builtin_mul_overflow(a.uint_value(), b.uint_value(), &r)) return Overflow();
    return Value::Uint(r);
  }
  if (ka == Kind::kDouble && kb == Kind::kDouble) return Value::Double(a.double_value() * b.double_value());
  return Binary(Op::kMul, a, b);
}

Value DivValues(const Value& a, const Value& b) {
  Kind ka = a.kind(), kb = b.kind();
  if (ka == Kind::kInt && kb == Kind::kInt) {
    if (b.int_value() == 0) return Value::Error("division by zero");
    if (a.int_value() == std::numeric_limits<int64_t>::min() && b.int_value() == -1) return Overflow();
    return Value::Int(a.int_value() / b.int_value());
  }
  if (ka == Kind::kUint && kb == Kind::kUint) {
    if (b.uint_value() == 0) return Value::Error("division by zero");
    return Value::Uint(a.uint_value() / b.uint_value());
  }
  if (ka == Kind::kDouble && kb == Kind::kDouble) return Value::Double(a.double_value() / b.double_value());
  return Binary(Op::kDiv, a, b);
}

Value ModValues(const Value& a, const Value& b) {
  Kind ka = a.kind(), kb = b.kind();
  if (ka == Kind::kInt && kb == Kind::kInt) {
    if (b.int_value() == 0) return Value::Error("modulus by zero");
    if (a.int_value() == std::numeric_limits<int64_t>::min() && b.int_value() == -1) return Overflow();
    return Value::Int(a.int_value() % b.int_value());
  }
  if (ka == Kind::kUint && kb == Kind::kUint) {
    if (b.uint_value() == 0) return Value::Error("modulus by zero");
    return Value::Uint(a.uint_value() % b.uint_value());
  }
  return Binary(Op::kMod, a, b);
}

Value InValues(const Value& elem, const Value& container) {
  if (container.kind() == Kind::kList) {
    for (const auto& v : container.list_value()) {
      if (ValuesEqual(elem, v)) return Value::Bool(true);
    }
    return Value::Bool(false);
  }
  if (container.kind() == Kind::kMap) {
    const auto& m = container.map_value();
    switch (elem.kind()) {
      case Kind::kBool:
      case Kind::kInt:
      case Kind::kUint:
      case Kind::kString:
      case Kind::kDouble: return Value::Bool(m.Find(elem) != nullptr);
      default: return Value::Bool(false);
    }
  }
  return Binary(Op::kIn, elem, container);
}

// Indexing that yields optional.none() instead of an error for a missing key or index.
Value OptionalIndex(const Value& container, const Value& index) {
  if (const auto* o = AsOptional(container)) {
    if (!o->has_value()) return container;
    return OptionalIndex(**o, index);
  }
  if (container.kind() == Kind::kMap) {
    const Value* v = container.map_value().Find(index);
    return v == nullptr ? MakeOptional(std::nullopt) : MakeOptional(*v);
  }
  if (container.kind() == Kind::kList) {
    const auto& l = container.list_value();
    if (index.kind() == Kind::kInt && index.int_value() >= 0 && static_cast<uint64_t>(index.int_value()) < l.size()) {
      return MakeOptional(l[static_cast<size_t>(index.int_value())]);
    }
    if (index.kind() == Kind::kInt) return MakeOptional(std::nullopt);
  }
  return Binary(Op::kIndex, container, index);
}

Value IndexValues(const Value& container, const Value& index) {
  if (AsOptional(container) != nullptr) return OptionalIndex(container, index);
  if (container.kind() == Kind::kList) {
    const auto& l = container.list_value();
    int64_t i;
    switch (index.kind()) {
      case Kind::kInt: i = index.int_value(); break;
      case Kind::kUint:
        if (index.uint_value() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return Value::Error("index out of range");
        }
        i = static_cast<int64_t>(index.uint_value());
        break;
      case Kind::kDouble: {
        double d = index.double_value();
        if (!DoubleFitsInt64(d) || std::trunc(d) != d) return Value::Error("unsupported index value");
        i = static_cast<int64_t>(d);
        break;
      }
      default: return Binary(Op::kIndex, container, index);
    }
    if (i < 0 || static_cast<uint64_t>(i) >= l.size()) {
      return Value::Error("index out of range: " + std::to_string(i));
    }
    return l[static_cast<size_t>(i)];
  }
  if (const auto* h = AsHierarchy(container)) {
    if (index.kind() != Kind::kInt) return Binary(Op::kIndex, container, index);
    if (index.int_value() < 0 || static_cast<uint64_t>(index.int_value()) >= h->size()) {
      return Value::Error("index out of range");
    }
    return Value::String((*h)[static_cast<size_t>(index.int_value())]);
  }
  if (container.kind() == Kind::kMap) {
    const Value* v = container.map_value().Find(index);
    if (v == nullptr) return Value::Error("no such key: " + index.DebugString());
    return *v;
  }
  return Binary(Op::kIndex, container, index);
}

Value CompareOp(Op op, const Value& a, const Value& b) {
  auto c = Compare(a, b);
  if (!c) {
    // A NaN operand: cel-go (so Cerbos) answers an error, and a condition such as
    // `!(R.attr.a / R.attr.b < 1.0)` must not hold where Cerbos's does not.
    if (IsNumeric(a.kind()) && IsNumeric(b.kind())) return Value::Error("NaN values cannot be ordered");
    return Binary(op, a, b);
  }
  switch (op) {
    case Op::kLt: return Value::Bool(*c < 0);
    case Op::kLe: return Value::Bool(*c <= 0);
    case Op::kGt: return Value::Bool(*c > 0);
    default: return Value::Bool(*c >= 0);
  }
}

}  // namespace

Value CostExceeded() { return Value::Error("cost limit exceeded"); }

Value NoOverload(std::string_view function, std::span<const Value> args) {
  std::string msg = "no matching overload for '" + std::string(function) + "' applied to (";
  for (size_t i = 0; i < args.size(); ++i) {
    if (i) msg += ", ";
    msg += KindName(args[i].kind());
  }
  return Value::Error(msg + ")");
}

Value ApplyBinary(Op op, const Value& a, const Value& b, EvalContext& ctx) {
  switch (op) {
    case Op::kEq: return Value::Bool(ValuesEqual(a, b));
    case Op::kNe: return Value::Bool(!ValuesEqual(a, b));
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: return CompareOp(op, a, b);
    case Op::kIn: return InValues(a, b);
    case Op::kAdd: return AddValues(a, b, ctx);
    case Op::kSub: return SubValues(a, b);
    case Op::kMul: return MulValues(a, b);
    case Op::kDiv: return DivValues(a, b);
    case Op::kMod: return ModValues(a, b);
    case Op::kIndex: return IndexValues(a, b);
    default: return Value::Error("internal: not a binary operator");
  }
}

Value ApplyNeg(const Value& a) {
  if (a.kind() == Kind::kInt) {
    if (a.int_value() == std::numeric_limits<int64_t>::min()) return Overflow();
    return Value::Int(-a.int_value());
  }
  if (a.kind() == Kind::kDouble) return Value::Double(-a.double_value());
  Value args[1] = {a};
  return NoOverload("-_", args);
}

Value ApplyNot(const Value& a) {
  if (a.kind() == Kind::kBool) return Value::Bool(!a.bool_value());
  Value args[1] = {a};
  return NoOverload("!_", args);
}

Value OptionalSelect(const Value& operand, std::string_view field) {
  if (const auto* o = AsOptional(operand)) {
    if (!o->has_value()) return operand;
    return OptionalSelect(**o, field);
  }
  if (operand.kind() == Kind::kMap) {
    const Value* v = operand.map_value().FindString(field);
    return v == nullptr ? MakeOptional(std::nullopt) : MakeOptional(*v);
  }
  return Value::Error("type '" + std::string(KindName(operand.kind())) + "' does not support field selection");
}

Value OptionalIndexOp(const Value& container, const Value& index) { return OptionalIndex(container, index); }

Value SelectField(const Value& operand, std::string_view field) {
  if (AsOptional(operand) != nullptr) return OptionalSelect(operand, field);
  if (operand.kind() == Kind::kMap) {
    const Value* v = operand.map_value().FindString(field);
    if (v == nullptr) return Value::Error("no such key: '" + std::string(field) + "'");
    return *v;
  }
  return Value::Error("type '" + std::string(KindName(operand.kind())) + "' does not support field selection");
}

Value HasField(const Value& operand, std::string_view field) {
  if (const auto* o = AsOptional(operand)) return o->has_value() ? HasField(**o, field) : Value::Bool(false);
  if (operand.kind() == Kind::kMap) return Value::Bool(operand.map_value().FindString(field) != nullptr);
  return Value::Error("type '" + std::string(KindName(operand.kind())) + "' does not support field selection");
}

}  // namespace warden::cel::internal
