// The generator, the reference evaluator and the comparison with Warden (see reference.h).
//
// The reference is written from the CEL language definition (google/cel-spec doc/langdef.md) and
// cel-go's documented behaviour where the definition is silent, never from common/cel: if both were
// wrong the same way the comparison would prove nothing. It favours plainness over speed.
#include "tests/differential/reference.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/cel/cel.h"
#include "common/policy/policy_set.h"

namespace warden::differential {

uint64_t SeededEntropy::Below(uint64_t n) {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return n == 0 ? 0 : z % n;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Reference values

struct REntry;

struct RVal {
  enum class K : uint8_t { kNull, kBool, kInt, kUint, kDouble, kString, kList, kMap, kError };
  K k = K::kNull;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::string s;  // string value, or the error's reason
  std::vector<RVal> list;
  // Entries in insertion order. (Not std::pair<RVal, RVal>: clang 14 with libstdc++ 12 asks
  // whether that pair is default-constructible while RVal is still incomplete, and fails.)
  std::vector<REntry> map;

  static RVal Null();
  static RVal Bool(bool v);
  static RVal Int(int64_t v);
  static RVal Uint(uint64_t v);
  static RVal Double(double v);
  static RVal String(std::string v);
  static RVal List(std::vector<RVal> v);
  static RVal Error(std::string why);
  bool is_error() const { return k == K::kError; }
  bool is_numeric() const { return k == K::kInt || k == K::kUint || k == K::kDouble; }
  bool is(bool v) const { return k == K::kBool && b == v; }
};

struct REntry {
  REntry(RVal key, RVal value) : first(std::move(key)), second(std::move(value)) {}
  RVal first;
  RVal second;
};

// The factories are defined here, where REntry is complete: clang instantiates RVal's implicit
// constructor, and so vector<REntry>'s, at the first body that constructs an RVal.
RVal RVal::Null() { return RVal(); }
RVal RVal::Bool(bool v) {
  RVal r;
  r.k = K::kBool;
  r.b = v;
  return r;
}
RVal RVal::Int(int64_t v) {
  RVal r;
  r.k = K::kInt;
  r.i = v;
  return r;
}
RVal RVal::Uint(uint64_t v) {
  RVal r;
  r.k = K::kUint;
  r.u = v;
  return r;
}
RVal RVal::Double(double v) {
  RVal r;
  r.k = K::kDouble;
  r.d = v;
  return r;
}
RVal RVal::String(std::string v) {
  RVal r;
  r.k = K::kString;
  r.s = std::move(v);
  return r;
}
RVal RVal::List(std::vector<RVal> v) {
  RVal r;
  r.k = K::kList;
  r.list = std::move(v);
  return r;
}
RVal RVal::Error(std::string why) {
  RVal r;
  r.k = K::kError;
  r.s = std::move(why);
  return r;
}
using K = RVal::K;

std::string DoubleText(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string Show(const RVal& v) {
  switch (v.k) {
    case K::kNull: return "null";
    case K::kBool: return v.b ? "true" : "false";
    case K::kInt: return std::to_string(v.i);
    case K::kUint: return std::to_string(v.u) + "u";
    case K::kDouble: return DoubleText(v.d);
    case K::kString: return Quote(v.s);
    case K::kList: {
      std::string out = "[";
      for (size_t n = 0; n < v.list.size(); ++n) out += (n ? ", " : "") + Show(v.list[n]);
      return out + "]";
    }
    case K::kMap: {
      std::string out = "{";
      for (size_t n = 0; n < v.map.size(); ++n) out += (n ? ", " : "") + Show(v.map[n].first) + ": " + Show(v.map[n].second);
      return out + "}";
    }
    case K::kError: return "error(" + v.s + ")";
  }
  return "?";
}

// Where a number sits relative to another: -1, 0, 1, or nullopt when a NaN is involved.
//
// The language definition puts the three numeric types on one continuous number line, which read
// literally makes 9007199254740993 and 9007199254740992.0 unequal. cel-go, and so Cerbos, compares
// an int or uint with a double by converting the integer to the nearest double (so those two are
// equal, and so are 2^63-1 and 2^63), and Warden follows Cerbos; the reference does too, and
// kExactNumberLine = true shows where the two readings part (see README.md). int against uint is
// exact either way.
constexpr bool kExactNumberLine = false;

std::optional<int> NumberOrder(const RVal& a, const RVal& b) {
  auto sign = [](auto x) { return x < 0 ? -1 : (x > 0 ? 1 : 0); };
  auto as_int = [](const RVal& v) -> __int128 { return v.k == K::kInt ? __int128(v.i) : __int128(v.u); };
  // integer vs double
  auto int_vs_double = [&](__int128 x, double d) -> std::optional<int> {
    if (std::isnan(d)) return std::nullopt;
    if (!kExactNumberLine) {
      double xd = static_cast<double>(x);
      return xd < d ? -1 : (xd > d ? 1 : 0);
    }
    if (d >= 18446744073709551616.0) return -1;   // 2^64: above every int64/uint64
    if (d < -9223372036854775808.0) return 1;     // below -2^63
    double t = std::trunc(d);
    __int128 ti = static_cast<__int128>(t);
    if (x != ti) return x < ti ? -1 : 1;
    return -sign(d - t);
  };
  if (a.k == K::kDouble && b.k == K::kDouble) {
    if (std::isnan(a.d) || std::isnan(b.d)) return std::nullopt;
    return a.d < b.d ? -1 : (a.d > b.d ? 1 : 0);
  }
  if (a.k == K::kDouble) {
    auto r = int_vs_double(as_int(b), a.d);
    if (!r) return r;
    return -*r;
  }
  if (b.k == K::kDouble) return int_vs_double(as_int(a), b.d);
  __int128 x = as_int(a), y = as_int(b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

// CEL equality of two non-error values (heterogeneous: different kinds are unequal, except numbers).
bool Equal(const RVal& a, const RVal& b);

// Map keys: bool, int, uint and string; numbers match across kinds when numerically equal.
bool KeyEqual(const RVal& a, const RVal& b) {
  if (a.is_numeric() && b.is_numeric()) {
    auto o = NumberOrder(a, b);
    return o && *o == 0;
  }
  if (a.k != b.k) return false;
  if (a.k == K::kString) return a.s == b.s;
  if (a.k == K::kBool) return a.b == b.b;
  return false;
}

const RVal* FindKey(const RVal& map, const RVal& key) {
  for (const auto& [k, v] : map.map) {
    if (KeyEqual(k, key)) return &v;
  }
  return nullptr;
}

bool Equal(const RVal& a, const RVal& b) {
  if (a.is_numeric() && b.is_numeric()) {
    auto o = NumberOrder(a, b);
    return o && *o == 0;
  }
  if (a.k != b.k) return false;
  switch (a.k) {
    case K::kNull: return true;
    case K::kBool: return a.b == b.b;
    case K::kString: return a.s == b.s;
    case K::kList:
      if (a.list.size() != b.list.size()) return false;
      for (size_t n = 0; n < a.list.size(); ++n) {
        if (!Equal(a.list[n], b.list[n])) return false;
      }
      return true;
    case K::kMap:
      if (a.map.size() != b.map.size()) return false;
      for (const auto& [k, v] : a.map) {
        const RVal* other = FindKey(b, k);
        if (other == nullptr || !Equal(v, *other)) return false;
      }
      return true;
    default: return false;
  }
}

RVal MakeMap(std::vector<REntry> entries) {
  for (size_t n = 0; n < entries.size(); ++n) {
    const RVal& key = entries[n].first;
    if (key.k != K::kBool && key.k != K::kInt && key.k != K::kUint && key.k != K::kString) {
      return RVal::Error("unsupported key type");
    }
    for (size_t m = 0; m < n; ++m) {
      if (KeyEqual(entries[m].first, key)) return RVal::Error("repeated key");
    }
  }
  RVal r;
  r.k = K::kMap;
  r.map = std::move(entries);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Expression trees

enum class Op : uint8_t {
  kLit, kVar, kList, kMap, kNeg, kNot,
  kAdd, kSub, kMul, kDiv, kMod, kEq, kNe, kLt, kLe, kGt, kGe, kAnd, kOr, kIn,
  kCond, kIndex, kSelect, kHas, kSize, kSizeMethod, kContains, kStartsWith, kEndsWith,
  kExists, kAll, kExistsOne, kMapMacro, kFilter,
};

struct Node {
  Op op = Op::kLit;
  RVal lit;          // kLit
  std::string name;  // kVar: the variable; kSelect/kHas: the field; macros: the iteration variable
  std::vector<Node> kids;
};

Node Leaf(RVal v) {
  Node n;
  n.lit = std::move(v);
  return n;
}
Node Make(Op op, std::vector<Node> kids, std::string name = {}) {
  Node n;
  n.op = op;
  n.kids = std::move(kids);
  n.name = std::move(name);
  return n;
}

std::string Render(const Node& n);

std::string RenderLiteral(const RVal& v) {
  switch (v.k) {
    case K::kInt:
      // Parenthesised so that `-` never meets another operator; INT64_MIN is a literal only when
      // the minus sign is part of it.
      if (v.i < 0) return "(-" + std::to_string(static_cast<uint64_t>(0) - static_cast<uint64_t>(v.i)) + ")";
      return std::to_string(v.i);
    case K::kDouble:
      if (std::signbit(v.d)) return "(-" + DoubleText(-v.d) + ")";
      return DoubleText(v.d);
    case K::kList: {
      std::string out = "[";
      for (size_t n = 0; n < v.list.size(); ++n) out += (n ? ", " : "") + RenderLiteral(v.list[n]);
      return out + "]";
    }
    case K::kMap: {
      std::string out = "{";
      for (size_t n = 0; n < v.map.size(); ++n) {
        out += (n ? ", " : "") + RenderLiteral(v.map[n].first) + ": " + RenderLiteral(v.map[n].second);
      }
      return out + "}";
    }
    default: return Show(v);
  }
}

std::string Render(const Node& n) {
  auto bin = [&](const char* op) { return "(" + Render(n.kids[0]) + " " + op + " " + Render(n.kids[1]) + ")"; };
  auto recv = [&](const Node& r) { return r.op == Op::kVar ? Render(r) : "(" + Render(r) + ")"; };
  auto method = [&](const char* name) { return recv(n.kids[0]) + "." + name + "(" + Render(n.kids[1]) + ")"; };
  auto macro = [&](const char* name) {
    return recv(n.kids[0]) + "." + name + "(" + n.name + ", " + Render(n.kids[1]) + ")";
  };
  switch (n.op) {
    case Op::kLit: return RenderLiteral(n.lit);
    case Op::kVar: return n.name;
    case Op::kList: {
      std::string out = "[";
      for (size_t i = 0; i < n.kids.size(); ++i) out += (i ? ", " : "") + Render(n.kids[i]);
      return out + "]";
    }
    case Op::kMap: {
      std::string out = "{";
      for (size_t i = 0; i + 1 < n.kids.size(); i += 2) {
        out += (i ? ", " : "") + Render(n.kids[i]) + ": " + Render(n.kids[i + 1]);
      }
      return out + "}";
    }
    case Op::kNeg: return "(-" + Render(n.kids[0]) + ")";
    case Op::kNot: return "(!" + Render(n.kids[0]) + ")";
    case Op::kAdd: return bin("+");
    case Op::kSub: return bin("-");
    case Op::kMul: return bin("*");
    case Op::kDiv: return bin("/");
    case Op::kMod: return bin("%");
    case Op::kEq: return bin("==");
    case Op::kNe: return bin("!=");
    case Op::kLt: return bin("<");
    case Op::kLe: return bin("<=");
    case Op::kGt: return bin(">");
    case Op::kGe: return bin(">=");
    case Op::kAnd: return bin("&&");
    case Op::kOr: return bin("||");
    case Op::kIn: return bin("in");
    case Op::kCond:
      return "(" + Render(n.kids[0]) + " ? " + Render(n.kids[1]) + " : " + Render(n.kids[2]) + ")";
    case Op::kIndex: return recv(n.kids[0]) + "[" + Render(n.kids[1]) + "]";
    case Op::kSelect: return recv(n.kids[0]) + "." + n.name;
    case Op::kHas: return "has(" + recv(n.kids[0]) + "." + n.name + ")";
    case Op::kSize: return "size(" + Render(n.kids[0]) + ")";
    case Op::kSizeMethod: return recv(n.kids[0]) + ".size()";
    case Op::kContains: return method("contains");
    case Op::kStartsWith: return method("startsWith");
    case Op::kEndsWith: return method("endsWith");
    case Op::kExists: return macro("exists");
    case Op::kAll: return macro("all");
    case Op::kExistsOne: return macro("exists_one");
    case Op::kMapMacro: return macro("map");
    case Op::kFilter: return macro("filter");
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// The reference evaluator

class Reference {
 public:
  // Variables visible to the expression; a name bound to nullopt is absent (reading it is an error,
  // as reading a missing attribute is).
  std::vector<std::pair<std::string, std::optional<RVal>>> scope;

  RVal Eval(const Node& n) {
    switch (n.op) {
      case Op::kLit: return n.lit;
      case Op::kVar:
        for (auto it = scope.rbegin(); it != scope.rend(); ++it) {
          if (it->first == n.name) return it->second ? *it->second : RVal::Error("no such attribute");
        }
        return RVal::Error("unbound variable " + n.name);
      case Op::kList: {
        std::vector<RVal> items;
        for (const auto& k : n.kids) {
          items.push_back(Eval(k));
          if (items.back().is_error()) return items.back();
        }
        return RVal::List(std::move(items));
      }
      case Op::kMap: {
        std::vector<REntry> entries;
        for (size_t i = 0; i + 1 < n.kids.size(); i += 2) {
          RVal key = Eval(n.kids[i]);
          if (key.is_error()) return key;
          RVal value = Eval(n.kids[i + 1]);
          if (value.is_error()) return value;
          entries.emplace_back(std::move(key), std::move(value));
        }
        return MakeMap(std::move(entries));
      }
      case Op::kAnd: return Logic(Eval(n.kids[0]), Eval(n.kids[1]), false);
      case Op::kOr: return Logic(Eval(n.kids[0]), Eval(n.kids[1]), true);
      case Op::kCond: {
        RVal c = Eval(n.kids[0]);
        if (c.is_error()) return c;
        if (c.k != K::kBool) return RVal::Error("no matching overload for ?:");
        return Eval(n.kids[c.b ? 1 : 2]);
      }
      case Op::kExists:
      case Op::kAll:
      case Op::kExistsOne:
      case Op::kMapMacro:
      case Op::kFilter: return Macro(n);
      default: break;
    }
    // Strict operators: any error operand is the result.
    std::vector<RVal> args;
    for (const auto& k : n.kids) {
      args.push_back(Eval(k));
      if (args.back().is_error()) return args.back();
    }
    return Apply(n, args);
  }

 private:
  static RVal Logic(const RVal& a, const RVal& b, bool absorbing) {
    if (a.is(absorbing) || b.is(absorbing)) return RVal::Bool(absorbing);
    if (a.is(!absorbing) && b.is(!absorbing)) return RVal::Bool(!absorbing);
    return a.is_error() ? a : (b.is_error() ? b : RVal::Error("no matching overload for logic operator"));
  }

  static RVal NoOverload(const char* what) { return RVal::Error(std::string("no matching overload for ") + what); }

  static RVal Arith(Op op, const RVal& a, const RVal& b) {
    if (a.k != b.k) return NoOverload("arithmetic on mixed types");
    switch (a.k) {
      case K::kInt: {
        int64_t r;
        switch (op) {
          case Op::kAdd: return __builtin_add_overflow(a.i, b.i, &r) ? RVal::Error("overflow") : RVal::Int(r);
          case Op::kSub: return __builtin_sub_overflow(a.i, b.i, &r) ? RVal::Error("overflow") : RVal::Int(r);
          case Op::kMul: return __builtin_mul_overflow(a.i, b.i, &r) ? RVal::Error("overflow") : RVal::Int(r);
          case Op::kDiv:
          case Op::kMod:
            if (b.i == 0) return RVal::Error("division by zero");
            if (a.i == std::numeric_limits<int64_t>::min() && b.i == -1) return RVal::Error("overflow");
            return RVal::Int(op == Op::kDiv ? a.i / b.i : a.i % b.i);
          default: break;
        }
        break;
      }
      case K::kUint: {
        uint64_t r;
        switch (op) {
          case Op::kAdd: return __builtin_add_overflow(a.u, b.u, &r) ? RVal::Error("overflow") : RVal::Uint(r);
          case Op::kSub: return __builtin_sub_overflow(a.u, b.u, &r) ? RVal::Error("overflow") : RVal::Uint(r);
          case Op::kMul: return __builtin_mul_overflow(a.u, b.u, &r) ? RVal::Error("overflow") : RVal::Uint(r);
          case Op::kDiv:
          case Op::kMod:
            if (b.u == 0) return RVal::Error("division by zero");
            return RVal::Uint(op == Op::kDiv ? a.u / b.u : a.u % b.u);
          default: break;
        }
        break;
      }
      case K::kDouble:
        switch (op) {
          case Op::kAdd: return RVal::Double(a.d + b.d);
          case Op::kSub: return RVal::Double(a.d - b.d);
          case Op::kMul: return RVal::Double(a.d * b.d);
          case Op::kDiv: return RVal::Double(a.d / b.d);  // IEEE: x/0.0 is an infinity or NaN
          default: break;                                  // no % on doubles
        }
        break;
      case K::kString:
        if (op == Op::kAdd) return RVal::String(a.s + b.s);
        break;
      case K::kList:
        if (op == Op::kAdd) {
          std::vector<RVal> items = a.list;
          items.insert(items.end(), b.list.begin(), b.list.end());
          return RVal::List(std::move(items));
        }
        break;
      default: break;
    }
    return NoOverload("arithmetic");
  }

  static RVal Order(Op op, const RVal& a, const RVal& b) {
    int c;
    if (a.is_numeric() && b.is_numeric()) {
      auto o = NumberOrder(a, b);
      // cel-go (and so Cerbos) answers an ordering with a NaN operand with the error "NaN values
      // cannot be ordered"; the language definition does not say.
      if (!o) return RVal::Error("NaN values cannot be ordered");
      c = *o;
    } else if (a.k == K::kString && b.k == K::kString) {
      c = a.s < b.s ? -1 : (a.s > b.s ? 1 : 0);  // bytewise, which for UTF-8 is code point order
    } else if (a.k == K::kBool && b.k == K::kBool) {
      c = int(a.b) - int(b.b);
    } else {
      return NoOverload("ordering");
    }
    switch (op) {
      case Op::kLt: return RVal::Bool(c < 0);
      case Op::kLe: return RVal::Bool(c <= 0);
      case Op::kGt: return RVal::Bool(c > 0);
      default: return RVal::Bool(c >= 0);
    }
  }

  static size_t CodePoints(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  }

  static RVal Apply(const Node& n, const std::vector<RVal>& a) {
    switch (n.op) {
      case Op::kNeg:
        if (a[0].k == K::kInt) {
          if (a[0].i == std::numeric_limits<int64_t>::min()) return RVal::Error("overflow");
          return RVal::Int(-a[0].i);
        }
        if (a[0].k == K::kDouble) return RVal::Double(-a[0].d);
        return NoOverload("-_");
      case Op::kNot: return a[0].k == K::kBool ? RVal::Bool(!a[0].b) : NoOverload("!_");
      case Op::kAdd:
      case Op::kSub:
      case Op::kMul:
      case Op::kDiv:
      case Op::kMod: return Arith(n.op, a[0], a[1]);
      case Op::kEq: return RVal::Bool(Equal(a[0], a[1]));
      case Op::kNe: return RVal::Bool(!Equal(a[0], a[1]));
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe: return Order(n.op, a[0], a[1]);
      case Op::kIn:
        if (a[1].k == K::kList) {
          for (const auto& item : a[1].list) {
            if (Equal(a[0], item)) return RVal::Bool(true);
          }
          return RVal::Bool(false);
        }
        if (a[1].k == K::kMap) return RVal::Bool(FindKey(a[1], a[0]) != nullptr);
        return NoOverload("in");
      case Op::kIndex:
        if (a[0].k == K::kList) {
          // cel-go takes int, uint, or a double with an integral value as a list index.
          __int128 at;
          if (a[1].k == K::kInt) {
            at = a[1].i;
          } else if (a[1].k == K::kUint) {
            at = a[1].u;
          } else if (a[1].k == K::kDouble && std::trunc(a[1].d) == a[1].d && std::fabs(a[1].d) < 9.2e18) {
            at = static_cast<__int128>(a[1].d);
          } else {
            return NoOverload("list index");
          }
          if (at < 0 || at >= static_cast<__int128>(a[0].list.size())) return RVal::Error("index out of range");
          return a[0].list[static_cast<size_t>(at)];
        }
        if (a[0].k == K::kMap) {
          const RVal* v = FindKey(a[0], a[1]);
          return v ? *v : RVal::Error("no such key");
        }
        return NoOverload("index");
      case Op::kSelect:
        if (a[0].k != K::kMap) return NoOverload("field selection");
        if (const RVal* v = FindKey(a[0], RVal::String(n.name))) return *v;
        return RVal::Error("no such key");
      case Op::kHas:
        if (a[0].k != K::kMap) return NoOverload("has");
        return RVal::Bool(FindKey(a[0], RVal::String(n.name)) != nullptr);
      case Op::kSize:
      case Op::kSizeMethod:
        if (a[0].k == K::kString) return RVal::Int(static_cast<int64_t>(CodePoints(a[0].s)));
        if (a[0].k == K::kList) return RVal::Int(static_cast<int64_t>(a[0].list.size()));
        if (a[0].k == K::kMap) return RVal::Int(static_cast<int64_t>(a[0].map.size()));
        return NoOverload("size");
      case Op::kContains:
      case Op::kStartsWith:
      case Op::kEndsWith: {
        if (a[0].k != K::kString || a[1].k != K::kString) return NoOverload("string function");
        const std::string& s = a[0].s;
        const std::string& t = a[1].s;
        if (n.op == Op::kContains) return RVal::Bool(s.find(t) != std::string::npos);
        if (n.op == Op::kStartsWith) return RVal::Bool(s.compare(0, t.size(), t) == 0 && s.size() >= t.size());
        return RVal::Bool(s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0);
      }
      default: break;
    }
    return RVal::Error("reference: unhandled operator");
  }

  RVal Macro(const Node& n) {
    RVal range = Eval(n.kids[0]);
    if (range.is_error()) return range;
    std::vector<RVal> items;
    if (range.k == K::kList) {
      items = range.list;
    } else if (range.k == K::kMap) {
      // Macros over a map see its keys. CEL leaves their order unspecified; the reference (like
      // Warden) takes insertion order, which only map() and filter() can observe.
      for (const auto& e : range.map) items.push_back(e.first);
    } else {
      return NoOverload("macro range");
    }
    std::vector<RVal> results;
    for (const auto& item : items) {
      scope.emplace_back(n.name, item);
      results.push_back(Eval(n.kids[1]));
      scope.pop_back();
    }
    switch (n.op) {
      case Op::kExists:
      case Op::kAll: {
        // The predicates combine with || (exists) or && (all): one decisive result wins whatever
        // the others are; otherwise any error (or non-bool) makes the whole an error.
        bool decisive = n.op == Op::kExists;
        RVal acc = RVal::Bool(!decisive);
        for (const auto& r : results) acc = Logic(acc, r, decisive);
        return acc;
      }
      case Op::kExistsOne: {
        int64_t count = 0;
        for (const auto& r : results) {
          if (r.is_error()) return r;
          if (r.k != K::kBool) return NoOverload("exists_one predicate");
          count += r.b;
        }
        return RVal::Bool(count == 1);
      }
      case Op::kMapMacro:
        for (const auto& r : results) {
          if (r.is_error()) return r;
        }
        return RVal::List(std::move(results));
      default: {  // filter
        std::vector<RVal> kept;
        for (size_t i = 0; i < results.size(); ++i) {
          if (results[i].is_error()) return results[i];
          if (results[i].k != K::kBool) return NoOverload("filter predicate");
          if (results[i].b) kept.push_back(items[i]);
        }
        return RVal::List(std::move(kept));
      }
    }
  }
};

// ---------------------------------------------------------------------------------------------
// Types and the generator

enum class B : uint8_t { kBool, kInt, kUint, kDouble, kString, kNull, kList, kMap, kDyn };

// A static type for generation only: list and map carry one element (value) type; map keys are
// strings or ints. kDyn stands for "any value".
struct Ty {
  B b = B::kDyn;
  B elem = B::kDyn;
  B key = B::kString;
  bool operator==(const Ty&) const = default;
};

struct VarEntry {
  Node node;  // what reading it looks like: a variable, or an attribute selection
  Ty type;
};

const char* const kFieldNames[] = {"a", "b", "c", "d"};
const char* const kStrings[] = {"", "a", "b", "ab", "abc", "ba", "A", "aa", "h\xc3\xa9llo", "\xe6\x97\xa5\xe6\x9c\xac",
                                "a\"b", "x\\y", "line\nbreak", "\xc3\xa9", "bab"};
const char* const kRoles[] = {"user", "admin", "guest", "auditor"};
const char* const kRuleActions[] = {"view", "edit", "delete", "approve", "*", "view:*"};
const char* const kRequestActions[] = {"view", "edit", "delete", "approve", "view:detail", "view:a:b", "archive"};

class Generator {
 public:
  Generator(Entropy& e, bool json_only) : e_(e), json_only_(json_only) {}

  uint64_t Below(uint64_t n) { return e_.Below(n); }
  bool OneIn(uint64_t n) { return e_.Below(n) == 0; }

  std::vector<VarEntry> vars;
  // Names for field selection and has(): map keys the values use, plus attribute names in policies.
  std::vector<std::string> fields = {"a", "b", "c", "d"};
  const std::string& Field() { return fields[Below(fields.size())]; }

  // A scalar or container type; in JSON mode only the shapes JSON can carry.
  Ty RandomType(bool containers = true) {
    // null once in eleven (seven in JSON): it makes most operators an error.
    static const B kScalars[] = {B::kBool, B::kBool, B::kInt, B::kInt, B::kUint, B::kUint,
                                 B::kDouble, B::kDouble, B::kString, B::kString, B::kNull};
    static const B kJsonScalars[] = {B::kBool, B::kBool, B::kDouble, B::kDouble, B::kString, B::kString, B::kNull};
    auto scalar = [&]() { return json_only_ ? kJsonScalars[Below(7)] : kScalars[Below(11)]; };
    switch (containers ? Below(8) : 0) {
      case 6: return Ty{B::kList, OneIn(4) ? B::kDyn : scalar(), B::kString};
      case 7: return Ty{B::kMap, OneIn(4) ? B::kDyn : scalar(), (json_only_ || !OneIn(3)) ? B::kString : B::kInt};
      default: return Ty{scalar()};
    }
  }
  Ty ScalarOf(B b) { return Ty{b}; }

  // A random value of `t`, the way a request would bind it.
  RVal Value(Ty t, int depth = 2) {
    switch (t.b) {
      case B::kBool: return RVal::Bool(Below(2));
      case B::kInt: return RVal::Int(IntConstant());
      case B::kUint: return RVal::Uint(UintConstant());
      case B::kDouble: return RVal::Double(DoubleConstant(/*special=*/!json_only_ && !literal_));
      case B::kString: return RVal::String(StringConstant());
      case B::kNull: return RVal::Null();
      case B::kList: {
        std::vector<RVal> items;
        for (uint64_t n = depth > 0 ? Below(4) : 0; n > 0; --n) items.push_back(Value(ElemType(t.elem), depth - 1));
        return RVal::List(std::move(items));
      }
      case B::kMap: {
        std::vector<REntry> entries;
        for (uint64_t n = depth > 0 ? Below(4) : 0; n > 0; --n) {
          RVal key = t.key == B::kInt ? RVal::Int(static_cast<int64_t>(Below(4))) : RVal::String(kFieldNames[Below(4)]);
          bool dup = false;
          for (const auto& [k, v] : entries) dup = dup || KeyEqual(k, key);
          if (!dup) entries.emplace_back(std::move(key), Value(ElemType(t.elem), depth - 1));
        }
        return MakeMap(std::move(entries));
      }
      case B::kDyn: return Value(RandomType(depth > 0), depth);
    }
    return RVal::Null();
  }

  Node Expr(Ty t, int depth) {
    switch (t.b) {
      case B::kBool: return BoolExpr(depth);
      case B::kInt: return IntExpr(depth);
      case B::kUint: return UintExpr(depth);
      case B::kDouble: return DoubleExpr(depth);
      case B::kString: return StringExpr(depth);
      case B::kNull: return Common(t, depth, [] { return Leaf(RVal::Null()); });
      case B::kList: return ListExpr(t, depth);
      case B::kMap: return MapExpr(t, depth);
      case B::kDyn: return Expr(RandomType(depth > 0), depth);
    }
    return Leaf(RVal::Null());
  }

 private:
  Ty ElemType(B elem) { return elem == B::kDyn ? RandomType(true) : Ty{elem}; }

  int64_t IntConstant() {
    static const int64_t kEdges[] = {0, 1, -1, 2, 3, 7, -7, 10, 100, 4294967296, std::numeric_limits<int64_t>::max(),
                                     std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max() - 1,
                                     std::numeric_limits<int64_t>::min() + 1, 3037000500, -3037000500,
                                     9007199254740993};
    if (OneIn(3)) return kEdges[Below(std::size(kEdges))];
    return static_cast<int64_t>(Below(41)) - 20;
  }
  uint64_t UintConstant() {
    static const uint64_t kEdges[] = {0, 1, 2, 7, 100, std::numeric_limits<uint64_t>::max(), 1ULL << 63,
                                      (1ULL << 63) - 1, 4294967296, 9007199254740993ULL};
    if (OneIn(3)) return kEdges[Below(std::size(kEdges))];
    return Below(21);
  }
  double DoubleConstant(bool special) {
    static const double kEdges[] = {0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e308, -1e308, 9007199254740992.0,
                                    9223372036854775808.0, -9223372036854775808.0, 18446744073709551616.0,
                                    4294967296.0, 1e-300, 3.0, 0.1};
    if (special && OneIn(12)) {
      static const double kSpecial[] = {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                                        -std::numeric_limits<double>::infinity()};
      return kSpecial[Below(3)];
    }
    if (OneIn(3)) return kEdges[Below(std::size(kEdges))];
    return (static_cast<double>(Below(81)) - 40.0) / 4.0;
  }
  std::string StringConstant() {
    if (OneIn(4)) {
      static const char* const kPieces[] = {"a", "b", "\xc3\xa9"};
      std::string s;
      for (uint64_t n = Below(5); n > 0; --n) s += kPieces[Below(3)];
      return s;
    }
    return kStrings[Below(std::size(kStrings))];
  }

  // The literal of `t` (containers with literal elements).
  Node Literal(Ty t) {
    literal_ = true;  // CEL has no NaN or infinity literal
    Node n = Leaf(Value(t, 1));
    literal_ = false;
    return n;
  }

  // A variable of exactly `t`, if any (and sometimes not even then).
  std::optional<Node> Var(Ty t) {
    std::vector<const VarEntry*> fits;
    for (const auto& v : vars) {
      // A dyn variable (an iteration variable over a dyn list) may stand anywhere.
      if (v.type == t || v.type.b == B::kDyn) fits.push_back(&v);
    }
    if (fits.empty() || OneIn(3)) return std::nullopt;
    return fits[Below(fits.size())]->node;
  }

  // Shapes every type shares: a leaf (literal or variable), ?:, and reading it out of a list or map.
  // `own` draws a type-specific shape and is used for the remaining choices.
  template <typename F>
  Node Common(Ty t, int depth, F own) {
    uint64_t c = depth <= 0 ? 0 : Below(12);
    switch (c) {
      case 0:
      case 1: {
        if (auto v = Var(t)) return *v;
        return Literal(t);
      }
      case 2: return Make(Op::kCond, {BoolExpr(depth - 1), Expr(t, depth - 1), Expr(t, depth - 1)});
      case 3: {
        // l[i]: mostly in range, sometimes not, sometimes a uint or a mistyped index.
        Node list = Expr(Ty{B::kList, t.b == B::kList || t.b == B::kMap ? B::kDyn : t.b}, depth - 1);
        // Where the size is visible (a literal), mostly an index inside it, or every deep tree
        // would end in "index out of range".
        uint64_t size = list.op == Op::kList ? list.kids.size() : (list.op == Op::kLit ? list.lit.list.size() : 1);
        int64_t at = size > 0 && !OneIn(4) ? static_cast<int64_t>(Below(size)) : static_cast<int64_t>(Below(5)) - 1;
        Node index = OneIn(4) && at >= 0 ? Leaf(RVal::Uint(static_cast<uint64_t>(at))) : Leaf(RVal::Int(at));
        if (OneIn(6)) index = Expr(RandomType(false), depth - 1);
        if (OneIn(6)) index = IntExpr(depth - 1);
        return Make(Op::kIndex, {std::move(list), std::move(index)});
      }
      case 4: {
        Ty map{B::kMap, t.b == B::kList || t.b == B::kMap ? B::kDyn : t.b, OneIn(3) ? B::kInt : B::kString};
        if (json_only_) map.key = B::kString;
        Node m = Expr(map, depth - 1);
        // Likewise a key the literal has, when it is a literal with literal keys.
        std::vector<RVal> keys;
        if (m.op == Op::kMap) {
          for (size_t i = 0; i < m.kids.size(); i += 2) {
            if (m.kids[i].op == Op::kLit) keys.push_back(m.kids[i].lit);
          }
        } else if (m.op == Op::kLit && m.lit.k == K::kMap) {
          for (const auto& e : m.lit.map) keys.push_back(e.first);
        }
        std::optional<RVal> known;
        if (!keys.empty() && !OneIn(4)) known = keys[Below(keys.size())];
        auto is_identifier = [](const std::string& f) {
          static const char* const kReserved[] = {"true", "false", "null", "in", "as", "break", "const", "continue", "else",
                                                  "for", "function", "if", "import", "let", "loop", "package",
                                                  "namespace", "return", "var", "void", "while"};
          if (f.empty() || std::isdigit(static_cast<unsigned char>(f[0]))) return false;
          for (char c : f) {
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
          }
          return std::none_of(std::begin(kReserved), std::end(kReserved), [&](const char* r) { return f == r; });
        };
        if (map.key == B::kString && !OneIn(3) && (!known || (known->k == K::kString && is_identifier(known->s)))) {
          return Make(Op::kSelect, {std::move(m)}, known ? known->s : Field());
        }
        Node key = map.key == B::kString ? Leaf(RVal::String(kFieldNames[Below(5) % 4]))
                                         : (OneIn(4) ? Leaf(RVal::Uint(Below(4))) : Leaf(RVal::Int(static_cast<int64_t>(Below(4)))));
        if (known) key = Leaf(*known);
        if (OneIn(8)) key = Leaf(RVal::Double(static_cast<double>(Below(3)) * (OneIn(2) ? 1.0 : 0.5)));
        return Make(Op::kIndex, {std::move(m), std::move(key)});
      }
      default: return own();
    }
  }

  // An operand of `t`, or rarely of a random type (to reach the "no such overload" paths).
  Node Operand(Ty t, int depth) {
    if (OneIn(25)) return Expr(RandomType(), depth);
    return Expr(t, depth);
  }

  Ty OrderedType() {
    switch (Below(json_only_ ? 3 : 5)) {
      case 0: return Ty{B::kDouble};
      case 1: return Ty{B::kString};
      case 2: return Ty{B::kBool};
      case 3: return Ty{B::kInt};
      default: return Ty{B::kUint};
    }
  }
  Ty NumericType() {
    static const B kNums[] = {B::kInt, B::kUint, B::kDouble};
    return Ty{kNums[Below(3)]};
  }

  std::string PushIterVar(Ty t) {
    std::string name = "x" + std::to_string(iter_depth_++);
    vars.push_back(VarEntry{Make(Op::kVar, {}, name), t});
    return name;
  }
  void PopIterVar() {
    vars.pop_back();
    --iter_depth_;
  }

  // range.<macro>(x, body) with `body` drawn by `make_body` while x is in scope.
  template <typename F>
  Node MacroOver(Op op, bool allow_map, int depth, F make_body) {
    Ty range = (allow_map && OneIn(3)) ? Ty{B::kMap, B::kDyn, json_only_ || OneIn(2) ? B::kString : B::kInt}
                                       : Ty{B::kList, OneIn(3) ? B::kDyn : RandomType(false).b};
    Node r = Expr(range, depth - 1);
    Ty var = range.b == B::kMap ? Ty{range.key} : (range.elem == B::kDyn ? Ty{B::kDyn} : Ty{range.elem});
    std::string name = PushIterVar(var);
    Node body = make_body();
    PopIterVar();
    return Make(op, {std::move(r), std::move(body)}, name);
  }

  Node BoolExpr(int depth) {
    Ty t{B::kBool};
    return Common(t, depth, [&]() -> Node {
      int d = depth - 1;
      switch (Below(16)) {
        case 0: return Make(Op::kNot, {Operand(t, d)});
        case 1: return Make(Op::kAnd, {Operand(t, d), Operand(t, d)});
        case 2: return Make(Op::kOr, {Operand(t, d), Operand(t, d)});
        case 3:
        case 4: {
          // Equality, often across numeric kinds, sometimes across unrelated kinds.
          Ty a = RandomType(), b = a;
          if (a.b == B::kInt || a.b == B::kUint || a.b == B::kDouble) b = NumericType();
          if (OneIn(5)) b = RandomType();
          return Make(OneIn(2) ? Op::kEq : Op::kNe, {Expr(a, d), Expr(b, d)});
        }
        case 5:
        case 6: {
          Ty a = OrderedType(), b = a;
          if (a.b == B::kInt || a.b == B::kUint || a.b == B::kDouble) b = json_only_ ? a : NumericType();
          static const Op kOps[] = {Op::kLt, Op::kLe, Op::kGt, Op::kGe};
          return Make(kOps[Below(4)], {Operand(a, d), Operand(b, d)});
        }
        case 7: {
          Ty elem = RandomType(false);
          Ty list{B::kList, OneIn(3) ? B::kDyn : (elem.b == B::kInt || elem.b == B::kUint || elem.b == B::kDouble ? NumericType().b : elem.b)};
          return Make(Op::kIn, {Expr(elem, d), Expr(list, d)});
        }
        case 8: {
          // Scalars only on the left of `in map`: a list or map key is not a question CEL answers.
          Ty map{B::kMap, B::kDyn, json_only_ || OneIn(2) ? B::kString : B::kInt};
          Ty key = OneIn(3) ? RandomType(false) : (map.key == B::kString ? Ty{B::kString} : NumericType());
          return Make(Op::kIn, {Expr(key, d), Expr(map, d)});
        }
        case 9:
        case 10: {
          static const Op kOps[] = {Op::kContains, Op::kStartsWith, Op::kEndsWith};
          return Make(kOps[Below(3)], {Operand(Ty{B::kString}, d), Operand(Ty{B::kString}, d)});
        }
        case 11: {
          Ty map{B::kMap, B::kDyn, B::kString};
          return Make(Op::kHas, {OneIn(12) ? Expr(RandomType(), d) : Expr(map, d)}, Field());
        }
        case 12:
        case 13: {
          static const Op kOps[] = {Op::kExists, Op::kAll, Op::kExistsOne};
          Op op = kOps[Below(3)];
          return MacroOver(op, true, depth, [&] { return BoolExpr(d); });
        }
        case 14: return Make(Op::kIn, {Expr(Ty{B::kBool}, d), Expr(Ty{B::kList, B::kBool}, d)});
        default: return Operand(RandomType(), d);  // a non-bool where a bool is expected
      }
    });
  }

  Node IntExpr(int depth) {
    Ty t{B::kInt};
    return Common(t, depth, [&]() -> Node {
      int d = depth - 1;
      switch (Below(8)) {
        case 0: return Make(Op::kNeg, {Operand(t, d)});
        case 1: {
          Ty sized = OneIn(2) ? Ty{B::kString} : (OneIn(2) ? Ty{B::kList, B::kDyn} : Ty{B::kMap, B::kDyn, B::kString});
          if (OneIn(10)) sized = RandomType();
          return Make(OneIn(2) ? Op::kSize : Op::kSizeMethod, {Expr(sized, d)});
        }
        default: {
          static const Op kOps[] = {Op::kAdd, Op::kSub, Op::kMul, Op::kDiv, Op::kMod};
          return Make(kOps[Below(5)], {Operand(t, d), Operand(t, d)});
        }
      }
    });
  }

  Node UintExpr(int depth) {
    Ty t{B::kUint};
    return Common(t, depth, [&]() -> Node {
      static const Op kOps[] = {Op::kAdd, Op::kSub, Op::kMul, Op::kDiv, Op::kMod};
      return Make(kOps[Below(5)], {Operand(t, depth - 1), Operand(t, depth - 1)});
    });
  }

  Node DoubleExpr(int depth) {
    Ty t{B::kDouble};
    return Common(t, depth, [&]() -> Node {
      if (OneIn(6)) return Make(Op::kNeg, {Operand(t, depth - 1)});
      static const Op kOps[] = {Op::kAdd, Op::kSub, Op::kMul, Op::kDiv, Op::kMod};
      // % on doubles is rare and always a "no such overload" error.
      return Make(kOps[Below(OneIn(10) ? 5 : 4)], {Operand(t, depth - 1), Operand(t, depth - 1)});
    });
  }

  Node StringExpr(int depth) {
    Ty t{B::kString};
    return Common(t, depth, [&]() -> Node { return Make(Op::kAdd, {Operand(t, depth - 1), Operand(t, depth - 1)}); });
  }

  Node ListExpr(Ty t, int depth) {
    return Common(t, depth, [&]() -> Node {
      int d = depth - 1;
      switch (Below(6)) {
        case 0:
        case 1: {
          std::vector<Node> items;
          for (uint64_t n = Below(4); n > 0; --n) items.push_back(Expr(ElemType(t.elem), d));
          return Make(Op::kList, std::move(items));
        }
        case 2: return Make(Op::kAdd, {Operand(t, d), Operand(t, d)});
        case 3:
        case 4: return MacroOver(Op::kMapMacro, false, depth, [&] { return Expr(ElemType(t.elem), d); });
        default: {
          // filter keeps elements, so the range must have the element type wanted.
          Node r = Expr(Ty{B::kList, t.elem}, d);
          std::string name = PushIterVar(Ty{t.elem});
          Node body = BoolExpr(d);
          PopIterVar();
          return Make(Op::kFilter, {std::move(r), std::move(body)}, name);
        }
      }
    });
  }

  Node MapExpr(Ty t, int depth) {
    return Common(t, depth, [&]() -> Node {
      std::vector<Node> kids;
      for (uint64_t n = Below(4); n > 0; --n) {
        if (t.key == B::kInt) {
          // Mostly ints; a uint or a double key checks repeated-key and key-type errors.
          int64_t k = static_cast<int64_t>(Below(3));
          kids.push_back(OneIn(6) ? Leaf(RVal::Uint(static_cast<uint64_t>(k)))
                                  : (OneIn(20) ? Leaf(RVal::Double(static_cast<double>(k))) : Leaf(RVal::Int(k))));
        } else {
          kids.push_back(OneIn(8) ? StringExpr(depth - 1) : Leaf(RVal::String(kFieldNames[Below(4)])));
        }
        kids.push_back(Expr(ElemType(t.elem), depth - 1));
      }
      return Make(Op::kMap, std::move(kids));
    });
  }

  Entropy& e_;
  bool json_only_;
  bool literal_ = false;
  int iter_depth_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Comparison with Warden

cel::Value ToWarden(const RVal& v) {
  switch (v.k) {
    case K::kNull: return cel::Value::Null();
    case K::kBool: return cel::Value::Bool(v.b);
    case K::kInt: return cel::Value::Int(v.i);
    case K::kUint: return cel::Value::Uint(v.u);
    case K::kDouble: return cel::Value::Double(v.d);
    case K::kString: return cel::Value::String(v.s);
    case K::kList: {
      std::vector<cel::Value> items;
      for (const auto& item : v.list) items.push_back(ToWarden(item));
      return cel::Value::List(std::move(items));
    }
    case K::kMap: {
      std::vector<std::pair<cel::Value, cel::Value>> entries;
      for (const auto& [k, val] : v.map) entries.emplace_back(ToWarden(k), ToWarden(val));
      return cel::Value::Map(std::move(entries));
    }
    case K::kError: return cel::Value::Error(v.s);
  }
  return cel::Value::Null();
}

// Exactly the same value: same kinds all the way down, doubles with the same bits (any NaN equals
// any NaN, and 0.0 differs from -0.0), maps with the same entries in any order.
bool Same(const cel::Value& w, const RVal& r) {
  if (r.is_error()) return w.is_error();
  switch (r.k) {
    case K::kNull: return w.kind() == cel::Kind::kNull;
    case K::kBool: return w.kind() == cel::Kind::kBool && w.bool_value() == r.b;
    case K::kInt: return w.kind() == cel::Kind::kInt && w.int_value() == r.i;
    case K::kUint: return w.kind() == cel::Kind::kUint && w.uint_value() == r.u;
    case K::kDouble:
      if (w.kind() != cel::Kind::kDouble) return false;
      if (std::isnan(r.d)) return std::isnan(w.double_value());
      return w.double_value() == r.d && std::signbit(w.double_value()) == std::signbit(r.d);
    case K::kString: return w.kind() == cel::Kind::kString && w.string_value() == r.s;
    case K::kList: {
      if (w.kind() != cel::Kind::kList || w.list_value().size() != r.list.size()) return false;
      for (size_t n = 0; n < r.list.size(); ++n) {
        if (!Same(w.list_value()[n], r.list[n])) return false;
      }
      return true;
    }
    case K::kMap: {
      if (w.kind() != cel::Kind::kMap || w.map_value().size() != r.map.size()) return false;
      for (const auto& [k, v] : r.map) {
        bool found = false;
        for (const auto& [wk, wv] : w.map_value().entries()) {
          if (Same(wk, k)) {
            found = Same(wv, v);
            break;
          }
        }
        if (!found) return false;
      }
      return true;
    }
    default: return false;
  }
}

std::string ShowWarden(const cel::Value& v) { return v.DebugString(); }

}  // namespace

std::optional<std::string> CheckOneExpression(Entropy& entropy, Tally* tally) {
  Generator gen(entropy, /*json_only=*/false);
  Reference ref;
  std::vector<std::string> names;
  for (uint64_t n = gen.Below(5); n > 0; --n) {
    std::string name = "v" + std::to_string(names.size());
    Ty t = gen.RandomType();
    RVal value = gen.Value(t);
    if (value.is_error()) continue;  // a map that came out with a repeated key: not bindable
    gen.vars.push_back(VarEntry{Make(Op::kVar, {}, name), t});
    ref.scope.emplace_back(name, value);
    names.push_back(name);
  }
  Ty top = gen.RandomType();
  if (gen.Below(3) == 0) top = Ty{B::kBool};
  Node tree = gen.Expr(top, static_cast<int>(1 + gen.Below(5)));
  RVal expected = ref.Eval(tree);
  std::string source = Render(tree);
  if (tally) {
    ++tally->cases;
    ++(expected.is_error() ? tally->errors : tally->values);
  }

  auto report = [&](const std::string& got) {
    std::string out = "expression: " + source + "\n";
    for (const auto& [name, value] : ref.scope) out += "  " + name + " = " + Show(*value) + "\n";
    out += "reference: " + Show(expected) + "\nwarden:    " + got + "\n";
    return out;
  };

  cel::CompileOptions options;
  options.variables = names;
  auto program = cel::Compile(source, options);
  if (!program.ok()) return report("compile error: " + std::string(program.status().message()));
  cel::Activation activation;
  activation.set_max_cost(10'000'000);
  for (const auto& [name, value] : ref.scope) activation.Bind(name, ToWarden(*value));
  cel::Value got = cel::Evaluate(**program, activation);
  if (Same(got, expected)) return std::nullopt;
  return report(ShowWarden(got));
}

// ---------------------------------------------------------------------------------------------
// Policies

namespace {

struct Condition {
  enum class Kind { kNone, kExpr, kAll, kAny, kNoneOf } kind = Kind::kNone;
  Node expr;                    // kExpr
  std::vector<Condition> of;    // kAll / kAny / kNoneOf
};

struct Rule {
  std::vector<std::string> actions;
  bool allow = true;
  std::vector<std::string> roles;
  Condition condition;
};

bool ActionMatches(const std::string& pattern, const std::string& action) {
  if (pattern == "*") return true;
  if (pattern.size() > 2 && pattern.ends_with(":*")) {
    std::string prefix = pattern.substr(0, pattern.size() - 1);  // "view:"
    return action.size() > prefix.size() && action.starts_with(prefix) &&
           action.find(':', prefix.size()) == std::string::npos;
  }
  return pattern == action;
}

bool Holds(Reference& ref, const Condition& c) {
  switch (c.kind) {
    case Condition::Kind::kNone: return true;
    case Condition::Kind::kExpr: return ref.Eval(c.expr).is(true);
    case Condition::Kind::kAll:
      for (const auto& sub : c.of) {
        if (!Holds(ref, sub)) return false;
      }
      return true;
    case Condition::Kind::kAny:
      for (const auto& sub : c.of) {
        if (Holds(ref, sub)) return true;
      }
      return false;
    case Condition::Kind::kNoneOf:
      for (const auto& sub : c.of) {
        if (Holds(ref, sub)) return false;
      }
      return true;
  }
  return false;
}

std::string Indent(int n) { return std::string(static_cast<size_t>(n), ' '); }

// The YAML of a `match` body at indentation `in`.
void WriteMatch(std::string& out, const Condition& c, int in) {
  switch (c.kind) {
    case Condition::Kind::kExpr:
      // A block scalar keeps the expression's quotes and backslashes as they are.
      out += Indent(in) + "expr: |-\n" + Indent(in + 2) + Render(c.expr) + "\n";
      return;
    case Condition::Kind::kAll:
    case Condition::Kind::kAny:
    case Condition::Kind::kNoneOf: {
      const char* key = c.kind == Condition::Kind::kAll ? "all" : (c.kind == Condition::Kind::kAny ? "any" : "none");
      out += Indent(in) + key + ":\n" + Indent(in + 2) + "of:\n";
      for (const auto& sub : c.of) {
        std::string item;
        WriteMatch(item, sub, in + 6);
        item.replace(static_cast<size_t>(in + 4), 2, "- ");
        out += item;
      }
      return;
    }
    case Condition::Kind::kNone: return;
  }
}

std::string List(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t n = 0; n < items.size(); ++n) out += (n ? ", " : "") + Quote(items[n]);
  return out + "]";
}

std::string PolicyYaml(const std::vector<Rule>& rules) {
  std::string out =
      "apiVersion: api.cerbos.dev/v1\n"
      "resourcePolicy:\n"
      "  version: default\n"
      "  resource: doc\n"
      "  rules:\n";
  for (size_t n = 0; n < rules.size(); ++n) {
    const Rule& r = rules[n];
    out += "    - name: rule" + std::to_string(n) + "\n";
    out += "      actions: " + List(r.actions) + "\n";
    out += std::string("      effect: ") + (r.allow ? "EFFECT_ALLOW" : "EFFECT_DENY") + "\n";
    out += "      roles: " + List(r.roles) + "\n";
    if (r.condition.kind != Condition::Kind::kNone) {
      out += "      condition:\n        match:\n";
      WriteMatch(out, r.condition, 10);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> CheckOnePolicy(Entropy& entropy, Tally* tally) {
  Generator gen(entropy, /*json_only=*/true);

  // The attributes conditions may read, each with the type the policy author expects.
  struct Attr {
    bool resource;
    std::string name;
    Ty type;
  };
  std::vector<Attr> attrs;
  for (int n = 0; n < 4; ++n) attrs.push_back(Attr{true, "r" + std::to_string(n), gen.RandomType()});
  for (int n = 0; n < 3; ++n) attrs.push_back(Attr{false, "p" + std::to_string(n), gen.RandomType()});
  for (const auto& a : attrs) gen.fields.push_back(a.name);
  for (const auto& a : attrs) {
    // Conditions spell attributes R.attr.x or request.resource.attr.x (P / request.principal):
    // the reference binds both spellings of the attribute map.
    const char* shorthand = a.resource ? "R.attr" : "P.attr";
    const char* full = a.resource ? "request.resource.attr" : "request.principal.attr";
    gen.vars.push_back(VarEntry{Make(Op::kSelect, {Make(Op::kVar, {}, shorthand)}, a.name), a.type});
    gen.vars.push_back(VarEntry{Make(Op::kSelect, {Make(Op::kVar, {}, full)}, a.name), a.type});
  }
  // The attribute maps themselves, for has() and whole-map reads.
  gen.vars.push_back(VarEntry{Make(Op::kVar, {}, "R.attr"), Ty{B::kMap, B::kDyn, B::kString}});
  gen.vars.push_back(VarEntry{Make(Op::kVar, {}, "P.attr"), Ty{B::kMap, B::kDyn, B::kString}});

  auto draw_condition = [&](auto& self, int nesting) -> Condition {
    Condition c;
    switch (gen.Below(nesting > 0 ? 6 : 2)) {
      case 0: return c;  // no condition
      case 1:
      case 2:
        c.kind = Condition::Kind::kExpr;
        c.expr = gen.Expr(Ty{B::kBool}, static_cast<int>(1 + gen.Below(4)));
        return c;
      default: {
        static const Condition::Kind kKinds[] = {Condition::Kind::kAll, Condition::Kind::kAny, Condition::Kind::kNoneOf};
        c.kind = kKinds[gen.Below(3)];
        for (uint64_t n = 1 + gen.Below(3); n > 0; --n) {
          Condition sub = self(self, nesting - 1);
          if (sub.kind == Condition::Kind::kNone) {
            sub.kind = Condition::Kind::kExpr;
            sub.expr = gen.Expr(Ty{B::kBool}, 1);
          }
          c.of.push_back(std::move(sub));
        }
        return c;
      }
    }
  };

  std::vector<Rule> rules;
  for (uint64_t n = 1 + gen.Below(5); n > 0; --n) {
    Rule r;
    for (uint64_t k = 1 + gen.Below(3); k > 0; --k) {
      std::string a = kRuleActions[gen.Below(std::size(kRuleActions))];
      if (std::find(r.actions.begin(), r.actions.end(), a) == r.actions.end()) r.actions.push_back(a);
    }
    r.allow = gen.Below(3) != 0;
    if (gen.Below(5) == 0) {
      r.roles = {"*"};
    } else {
      for (uint64_t k = 1 + gen.Below(2); k > 0; --k) {
        std::string role = kRoles[gen.Below(std::size(kRoles))];
        if (std::find(r.roles.begin(), r.roles.end(), role) == r.roles.end()) r.roles.push_back(role);
      }
    }
    r.condition = draw_condition(draw_condition, 2);
    rules.push_back(std::move(r));
  }

  std::string yaml = PolicyYaml(rules);
  std::vector<policy::SourceDocument> docs = {{"doc.yaml", yaml}};
  auto set = policy::PolicySet::Compile(docs);
  if (!set.ok()) return "policy:\n" + yaml + "warden: does not compile: " + std::string(set.status().message()) + "\n";

  std::vector<std::string> actions(std::begin(kRequestActions), std::end(kRequestActions));
  for (int request = 0; request < 3; ++request) {
    // Attribute values: mostly of the expected type, sometimes absent or of another type.
    std::vector<REntry> r_attr, p_attr;
    for (const auto& a : attrs) {
      uint64_t c = gen.Below(10);
      if (c == 0) continue;
      RVal v = gen.Value(c == 1 ? gen.RandomType() : a.type);
      if (v.is_error()) continue;
      (a.resource ? r_attr : p_attr).emplace_back(RVal::String(a.name), std::move(v));
    }
    RVal r_map = MakeMap(std::move(r_attr)), p_map = MakeMap(std::move(p_attr));

    policy::Principal principal;
    principal.id = "p1";
    for (uint64_t k = 1 + gen.Below(3); k > 0; --k) {
      std::string role = kRoles[gen.Below(std::size(kRoles))];
      if (std::find(principal.roles.begin(), principal.roles.end(), role) == principal.roles.end()) {
        principal.roles.push_back(role);
      }
    }
    principal.attr = ToWarden(p_map);
    policy::Resource resource;
    resource.kind = "doc";
    resource.id = "d1";
    resource.attr = ToWarden(r_map);
    policy::Decision decision = (*set)->Decide(principal, resource, actions);

    Reference ref;
    ref.scope = {{"R.attr", r_map}, {"request.resource.attr", r_map}, {"P.attr", p_map}, {"request.principal.attr", p_map}};
    for (size_t a = 0; a < actions.size(); ++a) {
      bool allowed = false;
      for (const auto& role : principal.roles) {
        bool denied = false, role_allowed = false;
        for (const auto& rule : rules) {
          bool action_matches = std::any_of(rule.actions.begin(), rule.actions.end(),
                                            [&](const std::string& p) { return ActionMatches(p, actions[a]); });
          bool role_matches = std::find(rule.roles.begin(), rule.roles.end(), "*") != rule.roles.end() ||
                              std::find(rule.roles.begin(), rule.roles.end(), role) != rule.roles.end();
          if (!action_matches || !role_matches || !Holds(ref, rule.condition)) continue;
          (rule.allow ? role_allowed : denied) = true;
        }
        allowed = allowed || (role_allowed && !denied);
      }
      if (tally) ++(allowed ? tally->allows : tally->denies);
      bool warden_allowed = decision.actions.at(a).effect == policy::Effect::kAllow;
      if (allowed != warden_allowed) {
        std::string out = "policy:\n" + yaml + "principal roles:";
        for (const auto& role : principal.roles) out += " " + role;
        out += "\nP.attr = " + Show(p_map) + "\nR.attr = " + Show(r_map) + "\naction: " + actions[a] + "\n";
        for (size_t n = 0; n < rules.size(); ++n) {
          out += "  rule" + std::to_string(n) + " condition holds (reference): " + (Holds(ref, rules[n].condition) ? "yes" : "no") + "\n";
        }
        out += std::string("reference: ") + (allowed ? "ALLOW" : "DENY") + "\nwarden:    " + (warden_allowed ? "ALLOW" : "DENY") +
               " (rule " + std::string(policy::RuleName(decision.actions[a])) + ")\n";
        return out;
      }
    }
  }
  if (tally) ++tally->cases;
  return std::nullopt;
}

}  // namespace warden::differential
