// Core CEL functions: size, type conversions, type(), dyn(), and the string predicates.
#include <re2/re2.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "common/cel/internal/builtins.h"
#include "common/cel/internal/encoding.h"
#include "common/cel/internal/hierarchy.h"
#include "common/cel/internal/numeric.h"
#include "common/cel/internal/time_util.h"

namespace warden::cel::internal {
namespace {

using Args = std::span<const Value>;

Value Size(Args a, EvalContext&, const Expr&) {
  const Value& v = a[0];
  switch (v.kind()) {
    case Kind::kString: return Value::Int(static_cast<int64_t>(CodePointCount(v.string_value())));
    case Kind::kBytes: return Value::Int(static_cast<int64_t>(v.string_value().size()));
    case Kind::kList: return Value::Int(static_cast<int64_t>(v.list_value().size()));
    case Kind::kMap: return Value::Int(static_cast<int64_t>(v.map_value().size()));
    case Kind::kOpaque:
      if (const auto* h = AsHierarchy(v)) return Value::Int(static_cast<int64_t>(h->size()));
      return NoOverload("size", a);
    default: return NoOverload("size", a);
  }
}

std::optional<int64_t> ParseInt(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string str(s);
  if (str.find_first_of(" \t\n") != std::string::npos) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(str.c_str(), &end, 10);
  if (errno == ERANGE || end != str.c_str() + str.size()) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParseUint(std::string_view s) {
  if (s.empty() || s[0] == '-' || s[0] == '+') return std::nullopt;
  std::string str(s);
  if (str.find_first_of(" \t\n") != std::string::npos) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(str.c_str(), &end, 10);
  if (errno == ERANGE || end != str.c_str() + str.size()) return std::nullopt;
  return v;
}

Value ToInt(Args a, EvalContext&, const Expr&) {
  const Value& v = a[0];
  switch (v.kind()) {
    case Kind::kInt: return v;
    case Kind::kUint:
      if (v.uint_value() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Err("int range error");
      return Value::Int(static_cast<int64_t>(v.uint_value()));
    case Kind::kDouble: {
      double d = v.double_value();
      // int64 max is not representable: 2^63 itself is out of range.
      if (std::isnan(d) || d <= -9223372036854775809.0 || d >= 9223372036854775807.0) return Err("int range error");
      return Value::Int(static_cast<int64_t>(d));
    }
    case Kind::kString: {
      auto r = ParseInt(v.string_value());
      if (!r) return Err("cannot convert string '" + std::string(v.string_value()) + "' to int");
      return Value::Int(*r);
    }
    case Kind::kTimestamp: return Value::Int(v.timestamp_value().seconds);
    default: return NoOverload("int", a);
  }
}

Value ToUint(Args a, EvalContext&, const Expr&) {
  const Value& v = a[0];
  switch (v.kind()) {
    case Kind::kUint: return v;
    case Kind::kInt:
      if (v.int_value() < 0) return Err("uint range error");
      return Value::Uint(static_cast<uint64_t>(v.int_value()));
    case Kind::kDouble: {
      double d = v.double_value();
      if (std::isnan(d) || d <= -1.0 || d >= 18446744073709551615.0) return Err("uint range error");
      return Value::Uint(static_cast<uint64_t>(d));
    }
    case Kind::kString: {
      auto r = ParseUint(v.string_value());
      if (!r) return Err("cannot convert string '" + std::string(v.string_value()) + "' to uint");
      return Value::Uint(*r);
    }
    default: return NoOverload("uint", a);
  }
}

Value ToDouble(Args a, EvalContext&, const Expr&) {
  const Value& v = a[0];
  switch (v.kind()) {
    case Kind::kDouble: return v;
    case Kind::kInt: return Value::Double(static_cast<double>(v.int_value()));
    case Kind::kUint: return Value::Double(static_cast<double>(v.uint_value()));
    case Kind::kString: {
      std::string s(v.string_value());
      if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return Err("cannot convert string to double");
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (end != s.c_str() + s.size()) return Err("cannot convert string '" + s + "' to double");
      return Value::Double(d);
    }
    default: return NoOverload("double", a);
  }
}

Value ToStringFn(Args a, EvalContext&, const Expr&) {
  const Value& v = a[0];
  switch (v.kind()) {
    case Kind::kString: return v;
    case Kind::kInt: return Value::String(std::to_string(v.int_value()));
    case Kind::kUint: return Value::String(std::to_string(v.uint_value()));
    case Kind::kDouble: return Value::String(FormatDouble(v.double_value()));
    case Kind::kBool: return Value::String(v.bool_value() ? "true" : "false");
    case Kind::kBytes:
      if (!IsValidUtf8(v.string_value())) return Err("invalid UTF-8 in bytes, cannot convert to string");
      return Value::String(std::string(v.string_value()));
    case Kind::kTimestamp: return Value::String(internal::FormatTimestamp(v.timestamp_value()));
    case Kind::kDuration: return Value::String(internal::FormatDuration(v.duration_value()));
    case Kind::kType: return Value::String(std::string(v.type_name()));
    case Kind::kOpaque: return Value::String(v.opaque_value().DebugString());
    default: return NoOverload("string", a);
  }
}

Value ToBytes(Args a, EvalContext&, const Expr&) {
  const Value& v = a[0];
  if (v.kind() == Kind::kBytes) return v;
  if (v.kind() == Kind::kString) return Value::Bytes(std::string(v.string_value()));
  return NoOverload("bytes", a);
}

Value ToBool(Args a, EvalContext&, const Expr&) {
  const Value& v = a[0];
  if (v.kind() == Kind::kBool) return v;
  if (v.kind() == Kind::kString) {
    std::string_view s = v.string_value();
    if (s == "true" || s == "TRUE" || s == "True" || s == "t" || s == "1") return Value::Bool(true);
    if (s == "false" || s == "FALSE" || s == "False" || s == "f" || s == "0") return Value::Bool(false);
    return Err("cannot convert string '" + std::string(s) + "' to bool");
  }
  return NoOverload("bool", a);
}

Value ToTimestamp(Args a, EvalContext&, const Expr&) {
  const Value& v = a[0];
  if (v.kind() == Kind::kTimestamp) return v;
  if (v.kind() == Kind::kString) {
    auto t = ParseTimestamp(v.string_value());
    if (!t) return Err("cannot parse timestamp '" + std::string(v.string_value()) + "'");
    return Value::TimestampOf(*t);
  }
  if (v.kind() == Kind::kInt) return Value::TimestampOf({v.int_value(), 0});
  return NoOverload("timestamp", a);
}

Value ToDuration(Args a, EvalContext&, const Expr&) {
  const Value& v = a[0];
  if (v.kind() == Kind::kDuration) return v;
  if (v.kind() == Kind::kString) {
    auto d = ParseDuration(v.string_value());
    if (!d) return Err("cannot parse duration '" + std::string(v.string_value()) + "'");
    return Value::DurationOf(*d);
  }
  if (v.kind() == Kind::kInt) {
    Duration d;
    if (!NormalizeDuration(v.int_value(), d)) return Err("duration out of range");
    return Value::DurationOf(d);
  }
  return NoOverload("duration", a);
}

Value TypeFn(Args a, EvalContext&, const Expr&) { return a[0].TypeOf(); }
Value DynFn(Args a, EvalContext&, const Expr&) { return a[0]; }

Value Contains(Args a, EvalContext&, const Expr&) {
  if (a[0].kind() != Kind::kString || a[1].kind() != Kind::kString) return NoOverload("contains", a);
  return Value::Bool(a[0].string_value().find(a[1].string_value()) != std::string_view::npos);
}
Value StartsWith(Args a, EvalContext&, const Expr&) {
  if (a[0].kind() != Kind::kString || a[1].kind() != Kind::kString) return NoOverload("startsWith", a);
  return Value::Bool(a[0].string_value().starts_with(a[1].string_value()));
}
Value EndsWith(Args a, EvalContext&, const Expr&) {
  if (a[0].kind() != Kind::kString || a[1].kind() != Kind::kString) return NoOverload("endsWith", a);
  return Value::Bool(a[0].string_value().ends_with(a[1].string_value()));
}

Status PrepareMatches(Expr& call) {
  const Expr& pattern = *call.args[1];
  if (pattern.op != Op::kConst || pattern.value.kind() != Kind::kString) return Status::Ok();
  auto re = std::make_shared<RE2>(std::string(pattern.value.string_value()), RE2::Quiet);
  if (!re->ok()) return Status::InvalidArgument("invalid regular expression: " + re->error());
  call.aux = std::move(re);
  return Status::Ok();
}

Value Matches(Args a, EvalContext& ctx, const Expr& call) {
  if (a[0].kind() != Kind::kString || a[1].kind() != Kind::kString) return NoOverload("matches", a);
  if (call.aux) {
    const auto* re = static_cast<const RE2*>(call.aux.get());
    return Value::Bool(RE2::PartialMatch(a[0].string_value(), *re));
  }
  if (!ctx.ChargeSize(a[1].string_value().size())) return CostExceeded();
  RE2 re(a[1].string_value(), RE2::Quiet);
  if (!re.ok()) return Err("invalid regular expression: " + re.error());
  return Value::Bool(RE2::PartialMatch(a[0].string_value(), re));
}

}  // namespace

void RegisterCoreBuiltins(std::vector<Builtin>& out) {
  out.push_back({"size", true, true, 1, 1, Size});
  out.push_back({"int", true, false, 1, 1, ToInt});
  out.push_back({"uint", true, false, 1, 1, ToUint});
  out.push_back({"double", true, false, 1, 1, ToDouble});
  out.push_back({"string", true, false, 1, 1, ToStringFn});
  out.push_back({"bytes", true, false, 1, 1, ToBytes});
  out.push_back({"bool", true, false, 1, 1, ToBool});
  out.push_back({"timestamp", true, false, 1, 1, ToTimestamp});
  out.push_back({"duration", true, false, 1, 1, ToDuration});
  out.push_back({"type", true, false, 1, 1, TypeFn});
  out.push_back({"dyn", true, false, 1, 1, DynFn});
  out.push_back({"contains", false, true, 2, 2, Contains});
  out.push_back({"startsWith", false, true, 2, 2, StartsWith});
  out.push_back({"endsWith", false, true, 2, 2, EndsWith});
  out.push_back({"matches", true, true, 2, 2, Matches, PrepareMatches});
}

}  // namespace warden::cel::internal
