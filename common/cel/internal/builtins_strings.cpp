// The cel-go strings extension (the functions Cerbos enables): charAt, indexOf, lastIndexOf,
// lowerAscii, upperAscii, replace, split, substring, trim, join, reverse, format, strings.quote.
// Indexes count code points, not bytes.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/cel/internal/builtins.h"
#include "common/cel/internal/encoding.h"
#include "common/cel/internal/numeric.h"
#include "common/cel/internal/time_util.h"

namespace warden::cel::internal {
namespace {

using Args = std::span<const Value>;

bool AllKinds(Args a, std::initializer_list<Kind> kinds) {
  size_t i = 0;
  for (Kind k : kinds) {
    if (i >= a.size() || a[i].kind() != k) return false;
    ++i;
  }
  return i == a.size();
}

Value CharAt(Args a, EvalContext&, const Expr&) {
  if (!AllKinds(a, {Kind::kString, Kind::kInt})) return NoOverload("charAt", a);
  auto offsets = CodePointOffsets(a[0].string_value());
  int64_t i = a[1].int_value();
  int64_t n = static_cast<int64_t>(offsets.size()) - 1;
  if (i < 0 || i > n) return Err("index out of range: " + std::to_string(i));
  if (i == n) return Value::String("");
  return Value::String(std::string(a[0].string_value().substr(offsets[i], offsets[i + 1] - offsets[i])));
}

// Code-point index of byte offset `byte` given the offsets table.
int64_t CpIndex(const std::vector<size_t>& offsets, size_t byte) {
  return static_cast<int64_t>(std::lower_bound(offsets.begin(), offsets.end(), byte) - offsets.begin());
}

Value IndexOf(Args a, EvalContext&, const Expr&) {
  if (!(AllKinds(a, {Kind::kString, Kind::kString}) || AllKinds(a, {Kind::kString, Kind::kString, Kind::kInt}))) {
    return NoOverload("indexOf", a);
  }
  std::string_view s = a[0].string_value(), sub = a[1].string_value();
  auto offsets = CodePointOffsets(s);
  int64_t n = static_cast<int64_t>(offsets.size()) - 1;
  int64_t start = a.size() == 3 ? a[2].int_value() : 0;
  if (start < 0 || start > n) return Err("index out of range: " + std::to_string(start));
  size_t pos = s.find(sub, offsets[start]);
  if (pos == std::string_view::npos) return Value::Int(-1);
  return Value::Int(CpIndex(offsets, pos));
}

Value LastIndexOf(Args a, EvalContext&, const Expr&) {
  if (!(AllKinds(a, {Kind::kString, Kind::kString}) || AllKinds(a, {Kind::kString, Kind::kString, Kind::kInt}))) {
    return NoOverload("lastIndexOf", a);
  }
  std::string_view s = a[0].string_value(), sub = a[1].string_value();
  auto offsets = CodePointOffsets(s);
  int64_t n = static_cast<int64_t>(offsets.size()) - 1;
  int64_t end = a.size() == 3 ? a[2].int_value() : n;
  if (end < 0 || end > n) return Err("index out of range: " + std::to_string(end));
  if (sub.empty()) return Value::Int(end);
  size_t pos = s.rfind(sub, offsets[end]);
  if (pos == std::string_view::npos) return Value::Int(-1);
  return Value::Int(CpIndex(offsets, pos));
}

Value LowerAscii(Args a, EvalContext&, const Expr&) {
  if (!AllKinds(a, {Kind::kString})) return NoOverload("lowerAscii", a);
  std::string s(a[0].string_value());
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return Value::String(std::move(s));
}

Value UpperAscii(Args a, EvalContext&, const Expr&) {
  if (!AllKinds(a, {Kind::kString})) return NoOverload("upperAscii", a);
  std::string s(a[0].string_value());
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return Value::String(std::move(s));
}

Value Replace(Args a, EvalContext& ctx, const Expr&) {
  if (!(AllKinds(a, {Kind::kString, Kind::kString, Kind::kString}) ||
        AllKinds(a, {Kind::kString, Kind::kString, Kind::kString, Kind::kInt}))) {
    return NoOverload("replace", a);
  }
  std::string_view s = a[0].string_value(), from = a[1].string_value(), to = a[2].string_value();
  int64_t limit = a.size() == 4 ? a[3].int_value() : -1;
  std::string out;
  size_t pos = 0;
  int64_t done = 0;
  if (from.empty()) {
    // Go's strings.Replace inserts `to` before every code point and at the end.
    size_t i = 0;
    while (i <= s.size() && (limit < 0 || done < limit)) {
      out += to;
      ++done;
      if (i == s.size()) {
        i = s.size() + 1;
        break;
      }
      size_t next = i;
      NextCodePoint(s, next);
      out += s.substr(i, next - i);
      i = next;
      if (!ctx.ChargeSize(out.size())) return CostExceeded();
    }
    if (i <= s.size()) out += s.substr(i);
    return Value::String(std::move(out));
  }
  while (limit < 0 || done < limit) {
    size_t hit = s.find(from, pos);
    if (hit == std::string_view::npos) break;
    out += s.substr(pos, hit - pos);
    out += to;
    pos = hit + from.size();
    ++done;
    if (!ctx.ChargeSize(out.size())) return CostExceeded();
  }
  out += s.substr(pos);
  return Value::String(std::move(out));
}

Value Split(Args a, EvalContext& ctx, const Expr&) {
  if (!(AllKinds(a, {Kind::kString, Kind::kString}) || AllKinds(a, {Kind::kString, Kind::kString, Kind::kInt}))) {
    return NoOverload("split", a);
  }
  std::string_view s = a[0].string_value(), sep = a[1].string_value();
  int64_t limit = a.size() == 3 ? a[2].int_value() : -1;
  ListValue out;
  if (limit == 0) return Value::List({});
  if (!ctx.ChargeSize(s.size())) return CostExceeded();
  if (sep.empty()) {
    size_t i = 0;
    while (i < s.size()) {
      if (limit > 0 && static_cast<int64_t>(out.size()) == limit - 1) {
        out.push_back(Value::String(std::string(s.substr(i))));
        return Value::List(std::move(out));
      }
      size_t next = i;
      NextCodePoint(s, next);
      out.push_back(Value::String(std::string(s.substr(i, next - i))));
      i = next;
    }
    return Value::List(std::move(out));
  }
  size_t pos = 0;
  while (limit < 0 || static_cast<int64_t>(out.size()) < limit - 1) {
    size_t hit = s.find(sep, pos);
    if (hit == std::string_view::npos) break;
    out.push_back(Value::String(std::string(s.substr(pos, hit - pos))));
    pos = hit + sep.size();
  }
  out.push_back(Value::String(std::string(s.substr(pos))));
  return Value::List(std::move(out));
}

Value Substring(Args a, EvalContext&, const Expr&) {
  if (!(AllKinds(a, {Kind::kString, Kind::kInt}) || AllKinds(a, {Kind::kString, Kind::kInt, Kind::kInt}))) {
    return NoOverload("substring", a);
  }
  std::string_view s = a[0].string_value();
  auto offsets = CodePointOffsets(s);
  int64_t n = static_cast<int64_t>(offsets.size()) - 1;
  int64_t start = a[1].int_value();
  int64_t end = a.size() == 3 ? a[2].int_value() : n;
  if (start < 0 || start > n) return Err("index out of range: " + std::to_string(start));
  if (end < 0 || end > n) return Err("index out of range: " + std::to_string(end));
  if (start > end) return Err("invalid substring range. start: " + std::to_string(start) + ", end: " + std::to_string(end));
  return Value::String(std::string(s.substr(offsets[start], offsets[end] - offsets[start])));
}

// Go's unicode.IsSpace.
bool IsSpace(uint32_t c) {
  switch (c) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ': case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000: return true;
    default: return c >= 0x2000 && c <= 0x200A;
  }
}

Value Trim(Args a, EvalContext&, const Expr&) {
  if (!AllKinds(a, {Kind::kString})) return NoOverload("trim", a);
  std::string_view s = a[0].string_value();
  size_t begin = 0;
  while (begin < s.size()) {
    size_t next = begin;
    if (!IsSpace(NextCodePoint(s, next))) break;
    begin = next;
  }
  auto offsets = CodePointOffsets(s.substr(begin));
  size_t end = s.size() - begin;
  for (size_t k = offsets.size() - 1; k > 0; --k) {
    size_t p = offsets[k - 1];
    size_t q = p;
    if (!IsSpace(NextCodePoint(s.substr(begin), q))) break;
    end = p;
  }
  return Value::String(std::string(s.substr(begin, end)));
}

Value Join(Args a, EvalContext& ctx, const Expr&) {
  if (!(AllKinds(a, {Kind::kList}) || AllKinds(a, {Kind::kList, Kind::kString}))) return NoOverload("join", a);
  std::string_view sep = a.size() == 2 ? a[1].string_value() : std::string_view();
  std::string out;
  bool first = true;
  for (const auto& v : a[0].list_value()) {
    if (v.kind() != Kind::kString) return Err("join: list element is " + std::string(KindName(v.kind())) + ", not string");
    if (!first) out += sep;
    first = false;
    out += v.string_value();
    if (!ctx.ChargeSize(out.size() / 8)) return CostExceeded();
  }
  return Value::String(std::move(out));
}

Value Reverse(Args a, EvalContext&, const Expr&) {
  if (!AllKinds(a, {Kind::kString})) return NoOverload("reverse", a);
  std::string_view s = a[0].string_value();
  auto offsets = CodePointOffsets(s);
  std::string out;
  out.reserve(s.size());
  for (size_t k = offsets.size() - 1; k > 0; --k) out += s.substr(offsets[k - 1], offsets[k] - offsets[k - 1]);
  return Value::String(std::move(out));
}

Value Quote(Args a, EvalContext&, const Expr&) {
  if (!AllKinds(a, {Kind::kString})) return NoOverload("strings.quote", a);
  std::string_view s = a[0].string_value();
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    uint32_t c = NextCodePoint(s, i);
    switch (c) {
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += s.substr(start, i - start);
        }
    }
  }
  return Value::String(out + "\"");
}

// ---- format ----

std::string FormatFloatSpecial(double d) {
  if (std::isnan(d)) return "NaN";
  return d > 0 ? "Infinity" : "-Infinity";
}

// The %s rendering of a value (lists and maps recursively, map keys sorted).
std::optional<std::string> AsString(const Value& v) {
  switch (v.kind()) {
    case Kind::kNull: return "null";
    case Kind::kBool: return v.bool_value() ? "true" : "false";
    case Kind::kInt: return std::to_string(v.int_value());
    case Kind::kUint: return std::to_string(v.uint_value());
    case Kind::kDouble: {
      double d = v.double_value();
      if (std::isnan(d) || std::isinf(d)) return FormatFloatSpecial(d);
      return FormatDouble(d);
    }
    case Kind::kString:
    case Kind::kBytes: return std::string(v.string_value());
    case Kind::kTimestamp: return internal::FormatTimestamp(v.timestamp_value());
    case Kind::kDuration: return internal::FormatDuration(v.duration_value());
    case Kind::kType: return std::string(v.type_name());
    case Kind::kList: {
      std::string out = "[";
      bool first = true;
      for (const auto& x : v.list_value()) {
        auto s = AsString(x);
        if (!s) return std::nullopt;
        if (!first) out += ", ";
        first = false;
        out += *s;
      }
      return out + "]";
    }
    case Kind::kMap: {
      std::vector<std::pair<std::string, std::string>> entries;
      for (const auto& [k, x] : v.map_value().entries()) {
        auto ks = AsString(k);
        auto xs = AsString(x);
        if (!ks || !xs) return std::nullopt;
        entries.emplace_back(*ks, *xs);
      }
      std::sort(entries.begin(), entries.end());
      std::string out = "{";
      bool first = true;
      for (const auto& [k, x] : entries) {
        if (!first) out += ", ";
        first = false;
        out += k + ": " + x;
      }
      return out + "}";
    }
    default: return std::nullopt;
  }
}

std::string ToBase(uint64_t v, int base, bool upper) {
  if (v == 0) return "0";
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out;
  while (v) {
    out += digits[v % base];
    v /= base;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

Value FormatError(std::string why) { return Err("format: " + why); }

Value FormatClause(char verb, int precision, const Value& v, std::string& out) {
  switch (verb) {
    case 's': {
      auto s = AsString(v);
      if (!s) return FormatError("%s cannot format " + std::string(KindName(v.kind())));
      out += *s;
      return Value();
    }
    case 'd': {
      if (v.kind() == Kind::kInt) out += std::to_string(v.int_value());
      else if (v.kind() == Kind::kUint) out += std::to_string(v.uint_value());
      else if (v.kind() == Kind::kDouble && (std::isnan(v.double_value()) || std::isinf(v.double_value())))
        out += FormatFloatSpecial(v.double_value());
      else return FormatError("%d cannot format " + std::string(KindName(v.kind())));
      return Value();
    }
    case 'f':
    case 'e': {
      double d;
      if (v.kind() == Kind::kDouble) d = v.double_value();
      else if (v.kind() == Kind::kInt) d = static_cast<double>(v.int_value());
      else if (v.kind() == Kind::kUint) d = static_cast<double>(v.uint_value());
      else return FormatError(std::string("%") + verb + " cannot format " + std::string(KindName(v.kind())));
      if (std::isnan(d) || std::isinf(d)) {
        out += FormatFloatSpecial(d);
        return Value();
      }
      char buf[512];
      std::snprintf(buf, sizeof buf, verb == 'f' ? "%.*f" : "%.*e", precision < 0 ? 6 : precision, d);
      out += buf;
      return Value();
    }
    case 'b':
    case 'o':
    case 'x':
    case 'X': {
      int base = verb == 'b' ? 2 : (verb == 'o' ? 8 : 16);
      bool upper = verb == 'X';
      if (v.kind() == Kind::kInt) {
        int64_t i = v.int_value();
        if (i < 0) out += "-";
        out += ToBase(i < 0 ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i), base, upper);
      } else if (v.kind() == Kind::kUint) {
        out += ToBase(v.uint_value(), base, upper);
      } else if (v.kind() == Kind::kBool && verb == 'b') {
        out += v.bool_value() ? "1" : "0";
      } else if ((v.kind() == Kind::kString || v.kind() == Kind::kBytes) && base == 16) {
        const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        for (unsigned char c : v.string_value()) {
          out += digits[c >> 4];
          out += digits[c & 15];
        }
      } else if (v.kind() == Kind::kDouble && base == 16) {
        return FormatError("%x cannot format double");
      } else {
        return FormatError(std::string("%") + verb + " cannot format " + std::string(KindName(v.kind())));
      }
      return Value();
    }
    default: return FormatError(std::string("unrecognized formatting clause '%") + verb + "'");
  }
}

Value Format(Args a, EvalContext& ctx, const Expr&) {
  if (!AllKinds(a, {Kind::kString, Kind::kList})) return NoOverload("format", a);
  std::string_view f = a[0].string_value();
  const auto& args = a[1].list_value();
  std::string out;
  size_t next_arg = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out += f[i];
      continue;
    }
    if (++i >= f.size()) return FormatError("unterminated formatting clause");
    if (f[i] == '%') {
      out += '%';
      continue;
    }
    int precision = -1;
    if (f[i] == '.') {
      precision = 0;
      ++i;
      while (i < f.size() && f[i] >= '0' && f[i] <= '9') {
        precision = precision * 10 + (f[i] - '0');
        if (precision > 100) return FormatError("precision too large");
        ++i;
      }
      if (i >= f.size()) return FormatError("unterminated formatting clause");
    }
    if (next_arg >= args.size()) return FormatError("index " + std::to_string(next_arg) + " out of range");
    const Value& v = args[next_arg++];
    if (v.is_exceptional()) return v;
    Value err = FormatClause(f[i], precision, v, out);
    if (err.is_error()) return err;
    if (!ctx.ChargeSize(out.size() / 8)) return CostExceeded();
  }
  return Value::String(std::move(out));
}

}  // namespace

void RegisterStringBuiltins(std::vector<Builtin>& out) {
  out.push_back({"charAt", false, true, 2, 2, CharAt});
  out.push_back({"indexOf", false, true, 2, 3, IndexOf});
  out.push_back({"lastIndexOf", false, true, 2, 3, LastIndexOf});
  out.push_back({"lowerAscii", false, true, 1, 1, LowerAscii});
  out.push_back({"upperAscii", false, true, 1, 1, UpperAscii});
  out.push_back({"replace", false, true, 3, 4, Replace});
  out.push_back({"split", false, true, 2, 3, Split});
  out.push_back({"substring", false, true, 2, 3, Substring});
  out.push_back({"trim", false, true, 1, 1, Trim});
  out.push_back({"join", false, true, 1, 2, Join});
  out.push_back({"reverse", false, true, 1, 1, Reverse});
  out.push_back({"format", false, true, 2, 2, Format});
  out.push_back({"strings.quote", true, false, 1, 1, Quote});
}

}  // namespace warden::cel::internal
