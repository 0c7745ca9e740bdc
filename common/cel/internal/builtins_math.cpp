// The cel-go math extension: math.greatest/least, rounding, abs/sign, NaN/Inf tests, bit
// operations and sqrt.
#include <cmath>
#include <limits>

#include "common/cel/internal/builtins.h"
#include "common/cel/internal/numeric.h"

namespace warden::cel::internal {
namespace {

using Args = std::span<const Value>;

template <bool kGreatest>
Value Extreme(Args a, EvalContext&, const Expr&) {
  const char* name = kGreatest ? "math.greatest" : "math.least";
  std::span<const Value> items = a;
  if (a.size() == 1 && a[0].kind() == Kind::kList) {
    items = a[0].list_value();
    if (items.empty()) return Err(std::string(name) + "(): list is empty");
  }
  const Value* best = nullptr;
  for (const auto& v : items) {
    if (!IsNumeric(v.kind())) return NoOverload(name, a);
    if (best == nullptr) {
      best = &v;
      continue;
    }
    auto c = NumericCompare(v, *best);
    if (c && (kGreatest ? *c > 0 : *c < 0)) best = &v;
  }
  return *best;
}

template <double (*F)(double)>
Value Rounding(Args a, EvalContext&, const Expr&) {
  if (a[0].kind() != Kind::kDouble) return NoOverload("math rounding", a);
  return Value::Double(F(a[0].double_value()));
}

Value Abs(Args a, EvalContext&, const Expr&) {
  switch (a[0].kind()) {
    case Kind::kInt:
      if (a[0].int_value() == std::numeric_limits<int64_t>::min()) return Err("integer overflow");
      return Value::Int(a[0].int_value() < 0 ? -a[0].int_value() : a[0].int_value());
    case Kind::kUint: return a[0];
    case Kind::kDouble: return Value::Double(std::fabs(a[0].double_value()));
    default: return NoOverload("math.abs", a);
  }
}

Value Sign(Args a, EvalContext&, const Expr&) {
  switch (a[0].kind()) {
    case Kind::kInt: return Value::Int((a[0].int_value() > 0) - (a[0].int_value() < 0));
    case Kind::kUint: return Value::Uint(a[0].uint_value() > 0 ? 1 : 0);
    case Kind::kDouble: {
      double d = a[0].double_value();
      if (std::isnan(d)) return a[0];
      return Value::Double(d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0));
    }
    default: return NoOverload("math.sign", a);
  }
}

template <int kWhich>
Value FloatTest(Args a, EvalContext&, const Expr&) {
  if (a[0].kind() != Kind::kDouble) return NoOverload("math float test", a);
  double d = a[0].double_value();
  if (kWhich == 0) return Value::Bool(std::isnan(d));
  if (kWhich == 1) return Value::Bool(std::isinf(d));
  return Value::Bool(std::isfinite(d));
}

template <char kOp>
Value BitBinary(Args a, EvalContext&, const Expr&) {
  auto apply = [](auto x, auto y) { return kOp == '&' ? (x & y) : (kOp == '|' ? (x | y) : (x ^ y)); };
  if (a[0].kind() == Kind::kInt && a[1].kind() == Kind::kInt) return Value::Int(apply(a[0].int_value(), a[1].int_value()));
  if (a[0].kind() == Kind::kUint && a[1].kind() == Kind::kUint) {
    return Value::Uint(apply(a[0].uint_value(), a[1].uint_value()));
  }
  return NoOverload("math bit operation", a);
}

Value BitNot(Args a, EvalContext&, const Expr&) {
  if (a[0].kind() == Kind::kInt) return Value::Int(~a[0].int_value());
  if (a[0].kind() == Kind::kUint) return Value::Uint(~a[0].uint_value());
  return NoOverload("math.bitNot", a);
}

template <bool kLeft>
Value Shift(Args a, EvalContext&, const Expr&) {
  if (a[1].kind() != Kind::kInt || (a[0].kind() != Kind::kInt && a[0].kind() != Kind::kUint)) {
    return NoOverload(kLeft ? "math.bitShiftLeft" : "math.bitShiftRight", a);
  }
  int64_t n = a[1].int_value();
  if (n < 0) return Err("math.bitShift: negative offset");
  uint64_t bits = a[0].kind() == Kind::kInt ? static_cast<uint64_t>(a[0].int_value()) : a[0].uint_value();
  // Shifts are logical on the 64-bit pattern, and shifting by 64 or more gives 0.
  uint64_t r = n >= 64 ? 0 : (kLeft ? bits << n : bits >> n);
  if (a[0].kind() == Kind::kInt) return Value::Int(static_cast<int64_t>(r));
  return Value::Uint(r);
}

Value Sqrt(Args a, EvalContext&, const Expr&) {
  switch (a[0].kind()) {
    case Kind::kInt: return Value::Double(std::sqrt(static_cast<double>(a[0].int_value())));
    case Kind::kUint: return Value::Double(std::sqrt(static_cast<double>(a[0].uint_value())));
    case Kind::kDouble: return Value::Double(std::sqrt(a[0].double_value()));
    default: return NoOverload("math.sqrt", a);
  }
}

double RoundHalfAway(double d) { return std::round(d); }
double Ceil(double d) { return std::ceil(d); }
double Floor(double d) { return std::floor(d); }
double Trunc(double d) { return std::trunc(d); }

}  // namespace

void RegisterMathBuiltins(std::vector<Builtin>& out) {
  constexpr int kMany = 1 << 20;
  out.push_back({"math.greatest", true, false, 1, kMany, Extreme<true>});
  out.push_back({"math.least", true, false, 1, kMany, Extreme<false>});
  out.push_back({"math.ceil", true, false, 1, 1, Rounding<Ceil>});
  out.push_back({"math.floor", true, false, 1, 1, Rounding<Floor>});
  out.push_back({"math.round", true, false, 1, 1, Rounding<RoundHalfAway>});
  out.push_back({"math.trunc", true, false, 1, 1, Rounding<Trunc>});
  out.push_back({"math.abs", true, false, 1, 1, Abs});
  out.push_back({"math.sign", true, false, 1, 1, Sign});
  out.push_back({"math.isNaN", true, false, 1, 1, FloatTest<0>});
  out.push_back({"math.isInf", true, false, 1, 1, FloatTest<1>});
  out.push_back({"math.isFinite", true, false, 1, 1, FloatTest<2>});
  out.push_back({"math.bitAnd", true, false, 2, 2, BitBinary<'&'>});
  out.push_back({"math.bitOr", true, false, 2, 2, BitBinary<'|'>});
  out.push_back({"math.bitXor", true, false, 2, 2, BitBinary<'^'>});
  out.push_back({"math.bitNot", true, false, 1, 1, BitNot});
  out.push_back({"math.bitShiftLeft", true, false, 2, 2, Shift<true>});
  out.push_back({"math.bitShiftRight", true, false, 2, 2, Shift<false>});
  out.push_back({"math.sqrt", true, false, 1, 1, Sqrt});
}

}  // namespace warden::cel::internal
