// optional.of / optional.none / optional.ofNonZeroValue and the optional methods hasValue, value,
// orValue and or. Selection and indexing through optionals live in operators.cpp.
#include <memory>

#include "common/cel/internal/builtins.h"
#include "common/cel/internal/optional.h"

namespace warden::cel::internal {
namespace {

using Args = std::span<const Value>;

class OptionalOpaque final : public OpaqueValue {
 public:
  explicit OptionalOpaque(std::optional<Value> v) : value_(std::move(v)) {}
  std::string_view type_name() const override { return "optional_type"; }
  bool Equals(const OpaqueValue& other) const override {
    const auto& o = static_cast<const OptionalOpaque&>(other).value_;
    if (!value_ || !o) return !value_ && !o;
    return ValuesEqual(*value_, *o);
  }
  std::string DebugString() const override {
    return value_ ? "optional.of(" + value_->DebugString() + ")" : "optional.none()";
  }
  const std::optional<Value>& value() const { return value_; }

 private:
  std::optional<Value> value_;
};

bool IsZero(const Value& v) {
  switch (v.kind()) {
    case Kind::kNull: return true;
    case Kind::kBool: return !v.bool_value();
    case Kind::kInt: return v.int_value() == 0;
    case Kind::kUint: return v.uint_value() == 0;
    case Kind::kDouble: return v.double_value() == 0;
    case Kind::kString:
    case Kind::kBytes: return v.string_value().empty();
    case Kind::kList: return v.list_value().empty();
    case Kind::kMap: return v.map_value().empty();
    case Kind::kDuration: return v.duration_value() == Duration{};
    case Kind::kTimestamp: return v.timestamp_value() == Timestamp{};
    default: return false;
  }
}

Value Of(Args a, EvalContext&, const Expr&) { return MakeOptional(a[0]); }
Value None(Args, EvalContext&, const Expr&) { return MakeOptional(std::nullopt); }
Value OfNonZero(Args a, EvalContext&, const Expr&) {
  return IsZero(a[0]) ? MakeOptional(std::nullopt) : MakeOptional(a[0]);
}

Value HasValue(Args a, EvalContext&, const Expr&) {
  const auto* o = AsOptional(a[0]);
  if (o == nullptr) return NoOverload("hasValue", a);
  return Value::Bool(o->has_value());
}

Value GetValue(Args a, EvalContext&, const Expr&) {
  const auto* o = AsOptional(a[0]);
  if (o == nullptr) return NoOverload("value", a);
  if (!o->has_value()) return Err("optional.none() dereference");
  return **o;
}

Value OrValue(Args a, EvalContext&, const Expr&) {
  const auto* o = AsOptional(a[0]);
  if (o == nullptr) return NoOverload("orValue", a);
  return o->has_value() ? **o : a[1];
}

Value Or(Args a, EvalContext&, const Expr&) {
  const auto* o = AsOptional(a[0]);
  if (o == nullptr || AsOptional(a[1]) == nullptr) return NoOverload("or", a);
  return o->has_value() ? a[0] : a[1];
}

}  // namespace

Value MakeOptional(std::optional<Value> inner) {
  return Value::Opaque(std::make_shared<OptionalOpaque>(std::move(inner)));
}

const std::optional<Value>* AsOptional(const Value& v) {
  if (v.kind() != Kind::kOpaque || v.opaque_value().type_name() != "optional_type") return nullptr;
  return &static_cast<const OptionalOpaque&>(v.opaque_value()).value();
}

void RegisterOptionalBuiltins(std::vector<Builtin>& out) {
  out.push_back({"optional.of", true, false, 1, 1, Of});
  out.push_back({"optional.none", true, false, 0, 0, None});
  out.push_back({"optional.ofNonZeroValue", true, false, 1, 1, OfNonZero});
  out.push_back({"hasValue", false, true, 1, 1, HasValue});
  out.push_back({"value", false, true, 1, 1, GetValue});
  out.push_back({"orValue", false, true, 2, 2, OrValue});
  out.push_back({"or", false, true, 2, 2, Or});
}

}  // namespace warden::cel::internal
