#include "common/cel/internal/numeric.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace warden::cel::internal {
namespace {

// int/uint against double compare as doubles, as cel-go does (so 2^63-1 equals 2^63 as a double).
std::optional<int> CompareIntDouble(int64_t i, double d) {
  if (std::isnan(d)) return std::nullopt;
  double x = static_cast<double>(i);
  return x < d ? -1 : (x > d ? 1 : 0);
}

std::optional<int> CompareUintDouble(uint64_t u, double d) {
  if (std::isnan(d)) return std::nullopt;
  double x = static_cast<double>(u);
  return x < d ? -1 : (x > d ? 1 : 0);
}

int CompareIntUint(int64_t i, uint64_t u) {
  if (i < 0) return -1;
  uint64_t iu = static_cast<uint64_t>(i);
  return iu < u ? -1 : (iu > u ? 1 : 0);
}

}  // namespace

std::optional<int> NumericCompare(const Value& a, const Value& b) {
  auto cmp = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  switch (a.kind()) {
    case Kind::kInt:
      switch (b.kind()) {
        case Kind::kInt: return cmp(a.int_value(), b.int_value());
        case Kind::kUint: return CompareIntUint(a.int_value(), b.uint_value());
        default: return CompareIntDouble(a.int_value(), b.double_value());
      }
    case Kind::kUint:
      switch (b.kind()) {
        case Kind::kInt: return -CompareIntUint(b.int_value(), a.uint_value());
        case Kind::kUint: return cmp(a.uint_value(), b.uint_value());
        default: return CompareUintDouble(a.uint_value(), b.double_value());
      }
    default:
      switch (b.kind()) {
        case Kind::kInt: {
          auto c = CompareIntDouble(b.int_value(), a.double_value());
          if (!c) return c;
          return -*c;
        }
        case Kind::kUint: {
          auto c = CompareUintDouble(b.uint_value(), a.double_value());
          if (!c) return c;
          return -*c;
        }
        default: {
          double x = a.double_value(), y = b.double_value();
          if (std::isnan(x) || std::isnan(y)) return std::nullopt;
          return cmp(x, y);
        }
      }
  }
}

bool NumericEqual(const Value& a, const Value& b) {
  auto c = NumericCompare(a, b);
  return c && *c == 0;
}

std::string FormatDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  // Shortest round-trip digits, then laid out like Go's strconv.FormatFloat(d, 'g', -1, 64),
  // which is what cel-go's string(double) produces.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string digits;
  for (size_t i = 0; i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  int exp = std::stoi(sci.substr(e + 1));
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 6) {  // strconv.FormatFloat(d, 'g', -1, 64): %e from exponent 6
    out += digits[0];
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return out + eb;
  }
  if (exp < 0) {
    out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
    out += digits + std::string(static_cast<size_t>(exp) + 1 - digits.size(), '0');
  } else {
    out += digits.substr(0, exp + 1) + "." + digits.substr(exp + 1);
  }
  return out;
}

std::string QuoteString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

bool DoubleFitsInt64(double d) {
  return !std::isnan(d) && d > -9223372036854775809.0 && d < 9223372036854775808.0 &&
         d >= -9223372036854775808.0;
}
bool DoubleFitsUint64(double d) { return !std::isnan(d) && d > -1.0 && d < 18446744073709551616.0; }

}  // namespace warden::cel::internal
