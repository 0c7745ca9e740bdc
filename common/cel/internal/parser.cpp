#include "common/cel/internal/parser.h"

#include <cerrno>
#include <cstdlib>
#include <limits>
#include <optional>
#include <unordered_set>

#include "common/cel/internal/encoding.h"

namespace warden::cel::internal {
namespace {

enum class Tok {
  kEnd,
  kIdent,
  kInt,
  kUint,
  kDouble,
  kString,
  kBytes,
  kQuotedIdent,  // `a.b` after a dot
  kTrue,
  kFalse,
  kNull,
  kIn,
  kOrOr,
  kAndAnd,
  kNot,
  kEqEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kQuestion,
  kColon,
  kDot,
  kOptDot,  // `.?`
  kComma,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kLBrace,
  kRBrace,
};

struct Token {
  Tok kind = Tok::kEnd;
  uint32_t offset = 0;
  std::string text;  // identifier name or decoded string/bytes
  int64_t int_value = 0;
  uint64_t uint_value = 0;
  double double_value = 0;
  bool int_overflow = false;  // decimal literal 9223372036854775808 (valid only after unary minus)
  bool reserved = false;      // a reserved word: usable only as a field or method name
};

const std::unordered_set<std::string_view>& ReservedWords() {
  static const std::unordered_set<std::string_view> words = {
      "as",  "break", "const", "continue", "else",      "for", "function", "if",   "import",
      "let", "loop",  "package", "namespace", "return", "var", "void",     "while"};
  return words;
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Result<Token> Next() {
    SkipSpace();
    Token t;
    t.offset = static_cast<uint32_t>(pos_);
    if (pos_ >= src_.size()) return t;
    char c = src_[pos_];
    auto two = [&](char a, char b) { return c == a && pos_ + 1 < src_.size() && src_[pos_ + 1] == b; };
    auto simple = [&](Tok k, size_t n) {
      t.kind = k;
      pos_ += n;
      return t;
    };
    if (two('|', '|')) return simple(Tok::kOrOr, 2);
    if (two('&', '&')) return simple(Tok::kAndAnd, 2);
    if (two('=', '=')) return simple(Tok::kEqEq, 2);
    if (two('!', '=')) return simple(Tok::kNe, 2);
    if (two('<', '=')) return simple(Tok::kLe, 2);
    if (two('>', '=')) return simple(Tok::kGe, 2);
    switch (c) {
      case '!': return simple(Tok::kNot, 1);
      case '<': return simple(Tok::kLt, 1);
      case '>': return simple(Tok::kGt, 1);
      case '+': return simple(Tok::kPlus, 1);
      case '-': return simple(Tok::kMinus, 1);
      case '*': return simple(Tok::kStar, 1);
      case '/': return simple(Tok::kSlash, 1);
      case '%': return simple(Tok::kPercent, 1);
      case '?': return simple(Tok::kQuestion, 1);
      case ':': return simple(Tok::kColon, 1);
      case ',': return simple(Tok::kComma, 1);
      case '(': return simple(Tok::kLParen, 1);
      case ')': return simple(Tok::kRParen, 1);
      case '[': return simple(Tok::kLBracket, 1);
      case ']': return simple(Tok::kRBracket, 1);
      case '{': return simple(Tok::kLBrace, 1);
      case '}': return simple(Tok::kRBrace, 1);
      default: break;
    }
    if (c == '.') {
      if (pos_ + 1 < src_.size() && IsDigit(src_[pos_ + 1])) return Number(t);
      if (pos_ + 1 < src_.size() && src_[pos_ + 1] == '?') return simple(Tok::kOptDot, 2);
      return simple(Tok::kDot, 1);
    }
    if (c == '`') {
      size_t end = src_.find('`', pos_ + 1);
      if (end == std::string_view::npos) return Error(t.offset, "unterminated quoted identifier");
      t.kind = Tok::kQuotedIdent;
      t.text = std::string(src_.substr(pos_ + 1, end - pos_ - 1));
      for (char q : t.text) {
        bool ok = IsIdentChar(q) || q == '.' || q == '-' || q == '/' || q == '~' || q == ' ';
        if (!ok) return Error(t.offset, "invalid character in quoted identifier");
      }
      pos_ = end + 1;
      return t;
    }
    if (IsDigit(c)) return Number(t);
    // String prefixes: r, b, rb, br (any case) directly followed by a quote.
    if (c == '"' || c == '\'') return String(t, false, false);
    if (IsIdentStart(c)) {
      size_t start = pos_;
      while (pos_ < src_.size() && IsIdentChar(src_[pos_])) ++pos_;
      std::string_view word = src_.substr(start, pos_ - start);
      if (pos_ < src_.size() && (src_[pos_] == '"' || src_[pos_] == '\'') && word.size() <= 2) {
        bool raw = false, bytes = false, ok = true;
        for (char w : word) {
          if ((w == 'r' || w == 'R') && !raw) raw = true;
          else if ((w == 'b' || w == 'B') && !bytes) bytes = true;
          else ok = false;
        }
        if (ok) return String(t, raw, bytes);
      }
      if (word == "true") return simple(Tok::kTrue, 0);
      if (word == "false") return simple(Tok::kFalse, 0);
      if (word == "null") return simple(Tok::kNull, 0);
      if (word == "in") return simple(Tok::kIn, 0);
      t.reserved = ReservedWords().count(word) > 0;
      t.kind = Tok::kIdent;
      t.text = std::string(word);
      return t;
    }
    return Error(t.offset, std::string("unexpected character '") + c + "'");
  }

  Status Error(uint32_t offset, std::string reason) const {
    return Status::InvalidArgument(Position(src_, offset) + ": " + reason);
  }

 private:
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
  static bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
  static bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }
  static int HexVal(char c) {
    if (IsDigit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
  }

  void SkipSpace() {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
        ++pos_;
      } else if (c == '/' && pos_ + 1 < src_.size() && src_[pos_ + 1] == '/') {
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  Result<Token> Number(Token t) {
    size_t start = pos_;
    if (src_[pos_] == '0' && pos_ + 1 < src_.size() && (src_[pos_ + 1] == 'x' || src_[pos_ + 1] == 'X')) {
      pos_ += 2;
      size_t digits = pos_;
      while (pos_ < src_.size() && IsHex(src_[pos_])) ++pos_;
      if (pos_ == digits) return Error(t.offset, "malformed hexadecimal literal");
      std::string hex(src_.substr(digits, pos_ - digits));
      errno = 0;
      unsigned long long v = std::strtoull(hex.c_str(), nullptr, 16);
      bool overflow = errno == ERANGE;
      if (pos_ < src_.size() && (src_[pos_] == 'u' || src_[pos_] == 'U')) {
        ++pos_;
        if (overflow) return Error(t.offset, "uint literal out of range");
        t.kind = Tok::kUint;
        t.uint_value = v;
      } else {
        if (overflow || v > 9223372036854775808ULL) return Error(t.offset, "int literal out of range");
        t.kind = Tok::kInt;
        if (v == 9223372036854775808ULL) {
          t.int_overflow = true;
        } else {
          t.int_value = static_cast<int64_t>(v);
        }
      }
      return CheckNumberEnd(t);
    }
    bool is_double = false;
    while (pos_ < src_.size() && IsDigit(src_[pos_])) ++pos_;
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' && IsDigit(src_[pos_ + 1])) {
      is_double = true;
      ++pos_;
      while (pos_ < src_.size() && IsDigit(src_[pos_])) ++pos_;
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t save = pos_;
      ++pos_;
      if (pos_ < src_.size() && (src_[pos_] == '+' || src_[pos_] == '-')) ++pos_;
      if (pos_ < src_.size() && IsDigit(src_[pos_])) {
        is_double = true;
        while (pos_ < src_.size() && IsDigit(src_[pos_])) ++pos_;
      } else {
        pos_ = save;
        return Error(static_cast<uint32_t>(save), "malformed exponent in number literal");
      }
    }
    std::string text(src_.substr(start, pos_ - start));
    if (is_double) {
      t.kind = Tok::kDouble;
      t.double_value = std::strtod(text.c_str(), nullptr);
      return CheckNumberEnd(t);
    }
    errno = 0;
    unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
    bool overflow = errno == ERANGE;
    if (pos_ < src_.size() && (src_[pos_] == 'u' || src_[pos_] == 'U')) {
      ++pos_;
      if (overflow) return Error(t.offset, "uint literal out of range");
      t.kind = Tok::kUint;
      t.uint_value = v;
      return CheckNumberEnd(t);
    }
    if (overflow || v > 9223372036854775808ULL) return Error(t.offset, "int literal out of range");
    t.kind = Tok::kInt;
    if (v == 9223372036854775808ULL) {
      t.int_overflow = true;
    } else {
      t.int_value = static_cast<int64_t>(v);
    }
    return CheckNumberEnd(t);
  }

  Result<Token> CheckNumberEnd(Token t) {
    if (pos_ < src_.size() && (IsIdentChar(src_[pos_]))) {
      return Error(t.offset, "malformed number literal");
    }
    return t;
  }

  Result<Token> String(Token t, bool raw, bool bytes) {
    char quote = src_[pos_];
    bool triple = pos_ + 2 < src_.size() && src_[pos_ + 1] == quote && src_[pos_ + 2] == quote;
    pos_ += triple ? 3 : 1;
    std::string out;
    while (true) {
      if (pos_ >= src_.size()) return Error(t.offset, "unterminated string literal");
      char c = src_[pos_];
      if (triple) {
        if (c == quote && pos_ + 2 < src_.size() && src_[pos_ + 1] == quote && src_[pos_ + 2] == quote) {
          pos_ += 3;
          break;
        }
      } else {
        if (c == quote) {
          ++pos_;
          break;
        }
        if (c == '\n' || c == '\r') return Error(static_cast<uint32_t>(pos_), "newline in string literal");
      }
      if (c == '\\' && !raw) {
        auto st = Escape(out, bytes);
        if (!st.ok()) return st;
        continue;
      }
      if (c == '\\' && raw) {
        // A raw string keeps the backslash, but an escaped quote does not end it.
        out += c;
        ++pos_;
        if (pos_ < src_.size() && src_[pos_] == quote && !triple) {
          out += quote;
          ++pos_;
        }
        continue;
      }
      out += c;
      ++pos_;
    }
    if (!bytes && !IsValidUtf8(out)) return Error(t.offset, "string literal is not valid UTF-8");
    t.kind = bytes ? Tok::kBytes : Tok::kString;
    t.text = std::move(out);
    return t;
  }

  Status Escape(std::string& out, bool bytes) {
    uint32_t at = static_cast<uint32_t>(pos_);
    ++pos_;  // backslash
    if (pos_ >= src_.size()) return Error(at, "unterminated escape sequence");
    char c = src_[pos_++];
    switch (c) {
      case 'a': out += '\a'; return Status::Ok();
      case 'b': out += '\b'; return Status::Ok();
      case 'f': out += '\f'; return Status::Ok();
      case 'n': out += '\n'; return Status::Ok();
      case 'r': out += '\r'; return Status::Ok();
      case 't': out += '\t'; return Status::Ok();
      case 'v': out += '\v'; return Status::Ok();
      case '\\': out += '\\'; return Status::Ok();
      case '\'': out += '\''; return Status::Ok();
      case '"': out += '"'; return Status::Ok();
      case '`': out += '`'; return Status::Ok();
      case '?': out += '?'; return Status::Ok();
      case 'x':
      case 'X':
      case 'u':
      case 'U': {
        size_t n = (c == 'x' || c == 'X') ? 2 : (c == 'u' ? 4 : 8);
        if (pos_ + n > src_.size()) return Error(at, "truncated escape sequence");
        uint32_t v = 0;
        for (size_t i = 0; i < n; ++i) {
          char h = src_[pos_ + i];
          if (!IsHex(h)) return Error(at, "invalid hexadecimal escape");
          v = v * 16 + static_cast<uint32_t>(HexVal(h));
        }
        pos_ += n;
        if (n == 2 && bytes) {
          out += static_cast<char>(v);
        } else {
          if (bytes && n != 2) return Error(at, "unicode escape in bytes literal");
          if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return Error(at, "invalid unicode code point");
          AppendUtf8(out, v);
        }
        return Status::Ok();
      }
      default:
        if (c >= '0' && c <= '3') {
          if (pos_ + 2 > src_.size()) return Error(at, "truncated octal escape");
          char d1 = src_[pos_], d2 = src_[pos_ + 1];
          if (d1 < '0' || d1 > '7' || d2 < '0' || d2 > '7') return Error(at, "invalid octal escape");
          uint32_t v = static_cast<uint32_t>((c - '0') * 64 + (d1 - '0') * 8 + (d2 - '0'));
          pos_ += 2;
          if (bytes) {
            out += static_cast<char>(v);
          } else {
            AppendUtf8(out, v);
          }
          return Status::Ok();
        }
        return Error(at, std::string("invalid escape sequence '\\") + c + "'");
    }
  }

  std::string_view src_;
  size_t pos_ = 0;
};

class Parser {
 public:
  Parser(std::string_view src, int max_depth) : src_(src), lexer_(src), max_depth_(max_depth) {}

  Result<std::unique_ptr<Expr>> ParseAll() {
    WARDEN_RETURN_IF_ERROR(Advance());
    auto e = ParseExpr();
    if (!e.ok()) return e.status();
    if (tok_.kind != Tok::kEnd) return Error(tok_.offset, "unexpected " + Describe(tok_) + " after expression");
    return std::move(e).value();
  }

 private:
  using P = Result<std::unique_ptr<Expr>>;

  Status Error(uint32_t offset, std::string reason) const {
    return Status::InvalidArgument(Position(src_, offset) + ": " + reason);
  }

  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEnd: return "end of input";
      case Tok::kIdent: return "identifier '" + t.text + "'";
      case Tok::kInt:
      case Tok::kUint:
      case Tok::kDouble: return "number";
      case Tok::kString: return "string";
      case Tok::kBytes: return "bytes";
      default: return "token";
    }
  }

  Status Advance() {
    auto t = lexer_.Next();
    if (!t.ok()) return t.status();
    tok_ = std::move(t).value();
    return Status::Ok();
  }

  Status Expect(Tok kind, const char* what) {
    if (tok_.kind != kind) return Error(tok_.offset, std::string("expected ") + what + ", found " + Describe(tok_));
    return Advance();
  }

  Status Enter(uint32_t offset) {
    if (++recursion_ > max_depth_) {
      return Status::ResourceExhausted(Position(src_, offset) + ": expression nested deeper than " +
                                       std::to_string(max_depth_) + " levels");
    }
    return Status::Ok();
  }

  P Node(Op op, uint32_t offset, std::vector<std::unique_ptr<Expr>> args = {}) {
    auto e = std::make_unique<Expr>();
    e->op = op;
    e->offset = offset;
    int depth = 0;
    for (const auto& a : args) {
      if (a && a->depth > depth) depth = a->depth;
    }
    e->depth = depth + 1;
    e->args = std::move(args);
    if (e->depth > max_depth_) {
      return Status::ResourceExhausted(Position(src_, offset) + ": expression nested deeper than " +
                                       std::to_string(max_depth_) + " levels");
    }
    return e;
  }

  static std::vector<std::unique_ptr<Expr>> Args(std::unique_ptr<Expr> a) {
    std::vector<std::unique_ptr<Expr>> v;
    v.push_back(std::move(a));
    return v;
  }
  static std::vector<std::unique_ptr<Expr>> Args(std::unique_ptr<Expr> a, std::unique_ptr<Expr> b) {
    std::vector<std::unique_ptr<Expr>> v;
    v.push_back(std::move(a));
    v.push_back(std::move(b));
    return v;
  }

  P ParseExpr() {
    uint32_t at = tok_.offset;
    WARDEN_RETURN_IF_ERROR(Enter(at));
    auto cond = ParseOr();
    if (!cond.ok()) return cond;
    if (tok_.kind == Tok::kQuestion) {
      uint32_t q = tok_.offset;
      WARDEN_RETURN_IF_ERROR(Advance());
      auto a = ParseOr();
      if (!a.ok()) return a;
      WARDEN_RETURN_IF_ERROR(Expect(Tok::kColon, "':'"));
      auto b = ParseExpr();
      if (!b.ok()) return b;
      std::vector<std::unique_ptr<Expr>> v;
      v.push_back(std::move(cond).value());
      v.push_back(std::move(a).value());
      v.push_back(std::move(b).value());
      --recursion_;
      return Node(Op::kTernary, q, std::move(v));
    }
    --recursion_;
    return cond;
  }

  P ParseOr() {
    auto left = ParseAnd();
    if (!left.ok()) return left;
    while (tok_.kind == Tok::kOrOr) {
      uint32_t at = tok_.offset;
      WARDEN_RETURN_IF_ERROR(Advance());
      auto right = ParseAnd();
      if (!right.ok()) return right;
      left = Node(Op::kOr, at, Args(std::move(left).value(), std::move(right).value()));
      if (!left.ok()) return left;
    }
    return left;
  }

  P ParseAnd() {
    auto left = ParseRelation();
    if (!left.ok()) return left;
    while (tok_.kind == Tok::kAndAnd) {
      uint32_t at = tok_.offset;
      WARDEN_RETURN_IF_ERROR(Advance());
      auto right = ParseRelation();
      if (!right.ok()) return right;
      left = Node(Op::kAnd, at, Args(std::move(left).value(), std::move(right).value()));
      if (!left.ok()) return left;
    }
    return left;
  }

  P ParseRelation() {
    auto left = ParseAddition();
    if (!left.ok()) return left;
    while (true) {
      Op op;
      switch (tok_.kind) {
        case Tok::kEqEq: op = Op::kEq; break;
        case Tok::kNe: op = Op::kNe; break;
        case Tok::kLt: op = Op::kLt; break;
        case Tok::kLe: op = Op::kLe; break;
        case Tok::kGt: op = Op::kGt; break;
        case Tok::kGe: op = Op::kGe; break;
        case Tok::kIn: op = Op::kIn; break;
        default: return left;
      }
      uint32_t at = tok_.offset;
      WARDEN_RETURN_IF_ERROR(Advance());
      auto right = ParseAddition();
      if (!right.ok()) return right;
      left = Node(op, at, Args(std::move(left).value(), std::move(right).value()));
      if (!left.ok()) return left;
    }
  }

  P ParseAddition() {
    auto left = ParseMultiplication();
    if (!left.ok()) return left;
    while (tok_.kind == Tok::kPlus || tok_.kind == Tok::kMinus) {
      Op op = tok_.kind == Tok::kPlus ? Op::kAdd : Op::kSub;
      uint32_t at = tok_.offset;
      WARDEN_RETURN_IF_ERROR(Advance());
      auto right = ParseMultiplication();
      if (!right.ok()) return right;
      left = Node(op, at, Args(std::move(left).value(), std::move(right).value()));
      if (!left.ok()) return left;
    }
    return left;
  }

  P ParseMultiplication() {
    auto left = ParseUnary();
    if (!left.ok()) return left;
    while (tok_.kind == Tok::kStar || tok_.kind == Tok::kSlash || tok_.kind == Tok::kPercent) {
      Op op = tok_.kind == Tok::kStar ? Op::kMul : (tok_.kind == Tok::kSlash ? Op::kDiv : Op::kMod);
      uint32_t at = tok_.offset;
      WARDEN_RETURN_IF_ERROR(Advance());
      auto right = ParseUnary();
      if (!right.ok()) return right;
      left = Node(op, at, Args(std::move(left).value(), std::move(right).value()));
      if (!left.ok()) return left;
    }
    return left;
  }

  P ParseUnary() {
    uint32_t at = tok_.offset;
    if (tok_.kind == Tok::kNot) {
      WARDEN_RETURN_IF_ERROR(Enter(at));
      WARDEN_RETURN_IF_ERROR(Advance());
      auto operand = ParseUnary();
      if (!operand.ok()) return operand;
      --recursion_;
      return Node(Op::kNot, at, Args(std::move(operand).value()));
    }
    if (tok_.kind == Tok::kMinus) {
      WARDEN_RETURN_IF_ERROR(Enter(at));
      WARDEN_RETURN_IF_ERROR(Advance());
      // A minus directly before a number literal is part of the literal (so that
      // -9223372036854775808 is a valid int), unless the literal is then selected or indexed.
      if (tok_.kind == Tok::kInt || tok_.kind == Tok::kDouble) {
        Token lit = tok_;
        WARDEN_RETURN_IF_ERROR(Advance());
        auto e = std::make_unique<Expr>();
        e->op = Op::kConst;
        e->offset = at;
        if (lit.kind == Tok::kInt) {
          e->value = Value::Int(lit.int_overflow ? std::numeric_limits<int64_t>::min() : -lit.int_value);
        } else {
          e->value = Value::Double(-lit.double_value);
        }
        --recursion_;
        return ParseMemberSuffix(std::move(e));
      }
      auto operand = ParseUnary();
      if (!operand.ok()) return operand;
      --recursion_;
      return Node(Op::kNeg, at, Args(std::move(operand).value()));
    }
    auto primary = ParsePrimary();
    if (!primary.ok()) return primary;
    return ParseMemberSuffix(std::move(primary).value());
  }

  P ParseMemberSuffix(std::unique_ptr<Expr> e) {
    while (true) {
      uint32_t at = tok_.offset;
      if (tok_.kind == Tok::kDot || tok_.kind == Tok::kOptDot) {
        bool optional = tok_.kind == Tok::kOptDot;
        WARDEN_RETURN_IF_ERROR(Advance());
        std::string field;
        bool quoted = false;
        if (tok_.kind == Tok::kIdent) {
          field = tok_.text;
        } else if (tok_.kind == Tok::kQuotedIdent) {
          field = tok_.text;
          quoted = true;
        } else if (tok_.kind == Tok::kIn || tok_.kind == Tok::kTrue || tok_.kind == Tok::kFalse ||
                   tok_.kind == Tok::kNull) {
          return Error(tok_.offset, "reserved word used as a field name");
        } else {
          return Error(tok_.offset, "expected a field name after '.', found " + Describe(tok_));
        }
        uint32_t field_at = tok_.offset;
        WARDEN_RETURN_IF_ERROR(Advance());
        if (tok_.kind == Tok::kLParen && !quoted && !optional) {
          WARDEN_RETURN_IF_ERROR(Advance());
          auto args = ParseExprList(Tok::kRParen, "')'");
          if (!args.ok()) return args.status();
          std::vector<std::unique_ptr<Expr>> all;
          all.push_back(std::move(e));
          for (auto& a : *args) all.push_back(std::move(a));
          auto call = MakeCall(field, true, field_at, std::move(all));
          if (!call.ok()) return call;
          e = std::move(call).value();
        } else {
          auto sel = Node(Op::kSelect, at, Args(std::move(e)));
          if (!sel.ok()) return sel;
          e = std::move(sel).value();
          e->name = std::move(field);
          e->optional = optional;
        }
      } else if (tok_.kind == Tok::kLBracket) {
        WARDEN_RETURN_IF_ERROR(Advance());
        bool optional = false;
        if (tok_.kind == Tok::kQuestion) {
          optional = true;
          WARDEN_RETURN_IF_ERROR(Advance());
        }
        auto index = ParseExpr();
        if (!index.ok()) return index;
        WARDEN_RETURN_IF_ERROR(Expect(Tok::kRBracket, "']'"));
        auto idx = Node(Op::kIndex, at, Args(std::move(e), std::move(index).value()));
        if (!idx.ok()) return idx;
        e = std::move(idx).value();
        e->optional = optional;
      } else {
        return e;
      }
    }
  }

  Result<std::vector<std::unique_ptr<Expr>>> ParseExprList(Tok close, const char* what) {
    std::vector<std::unique_ptr<Expr>> out;
    if (tok_.kind == close) {
      WARDEN_RETURN_IF_ERROR(Advance());
      return out;
    }
    while (true) {
      bool optional = false;
      if (close == Tok::kRBracket && tok_.kind == Tok::kQuestion) {
        optional = true;
        WARDEN_RETURN_IF_ERROR(Advance());
      }
      uint32_t at = tok_.offset;
      auto e = ParseExpr();
      if (!e.ok()) return e.status();
      if (optional) {
        e = Node(Op::kOptionalEntry, at, Args(std::move(e).value()));
        if (!e.ok()) return e.status();
      }
      out.push_back(std::move(e).value());
      if (tok_.kind == Tok::kComma) {
        WARDEN_RETURN_IF_ERROR(Advance());
        if (tok_.kind == close && close != Tok::kRParen) {
          WARDEN_RETURN_IF_ERROR(Advance());
          return out;
        }
        continue;
      }
      WARDEN_RETURN_IF_ERROR(Expect(close, what));
      return out;
    }
  }

  // No Enter() here: every way a primary nests (parentheses, list and map literals, call
  // arguments) goes through ParseExpr, which counts the level once; counting it here too made each
  // parenthesis two levels of --max-expression-depth.
  P ParsePrimary() { return ParsePrimaryInner(); }

  P Const(Value v, uint32_t at) {
    auto e = std::make_unique<Expr>();
    e->op = Op::kConst;
    e->offset = at;
    e->value = std::move(v);
    WARDEN_RETURN_IF_ERROR(Advance());
    return e;
  }

  P ParsePrimaryInner() {
    uint32_t at = tok_.offset;
    switch (tok_.kind) {
      case Tok::kInt:
        if (tok_.int_overflow) return Error(at, "int literal out of range");
        return Const(Value::Int(tok_.int_value), at);
      case Tok::kUint: return Const(Value::Uint(tok_.uint_value), at);
      case Tok::kDouble: return Const(Value::Double(tok_.double_value), at);
      case Tok::kString: return Const(Value::String(tok_.text), at);
      case Tok::kBytes: return Const(Value::Bytes(tok_.text), at);
      case Tok::kTrue: return Const(Value::Bool(true), at);
      case Tok::kFalse: return Const(Value::Bool(false), at);
      case Tok::kNull: return Const(Value::Null(), at);
      case Tok::kLParen: {
        WARDEN_RETURN_IF_ERROR(Advance());
        auto e = ParseExpr();
        if (!e.ok()) return e;
        WARDEN_RETURN_IF_ERROR(Expect(Tok::kRParen, "')'"));
        return e;
      }
      case Tok::kLBracket: {
        WARDEN_RETURN_IF_ERROR(Advance());
        auto items = ParseExprList(Tok::kRBracket, "']'");
        if (!items.ok()) return items.status();
        return Node(Op::kList, at, std::move(items).value());
      }
      case Tok::kLBrace: {
        WARDEN_RETURN_IF_ERROR(Advance());
        std::vector<std::unique_ptr<Expr>> kv;
        while (tok_.kind != Tok::kRBrace) {
          bool optional = false;
          if (tok_.kind == Tok::kQuestion) {
            optional = true;
            WARDEN_RETURN_IF_ERROR(Advance());
          }
          auto k = ParseExpr();
          if (!k.ok()) return k;
          WARDEN_RETURN_IF_ERROR(Expect(Tok::kColon, "':' in map literal"));
          uint32_t vat = tok_.offset;
          auto v = ParseExpr();
          if (!v.ok()) return v;
          if (optional) {
            v = Node(Op::kOptionalEntry, vat, Args(std::move(v).value()));
            if (!v.ok()) return v;
          }
          kv.push_back(std::move(k).value());
          kv.push_back(std::move(v).value());
          if (tok_.kind == Tok::kComma) {
            WARDEN_RETURN_IF_ERROR(Advance());
          } else if (tok_.kind != Tok::kRBrace) {
            return Error(tok_.offset, "expected ',' or '}' in map literal, found " + Describe(tok_));
          }
        }
        WARDEN_RETURN_IF_ERROR(Advance());
        return Node(Op::kMap, at, std::move(kv));
      }
      case Tok::kDot:
      case Tok::kIdent: {
        bool leading_dot = tok_.kind == Tok::kDot;
        if (leading_dot) {
          WARDEN_RETURN_IF_ERROR(Advance());
          if (tok_.kind != Tok::kIdent) return Error(tok_.offset, "expected identifier after '.'");
        }
        if (tok_.reserved) return Error(tok_.offset, "reserved identifier '" + tok_.text + "'");
        std::string name = (leading_dot ? "." : "") + tok_.text;
        WARDEN_RETURN_IF_ERROR(Advance());
        if (tok_.kind == Tok::kLParen) {
          WARDEN_RETURN_IF_ERROR(Advance());
          auto args = ParseExprList(Tok::kRParen, "')'");
          if (!args.ok()) return args.status();
          return MakeCall(name, false, at, std::move(args).value());
        }
        if (tok_.kind == Tok::kLBrace) {
          return Error(tok_.offset, "message construction ('" + name + "{...}') is not supported");
        }
        auto e = std::make_unique<Expr>();
        e->op = Op::kIdent;
        e->offset = at;
        e->name = std::move(name);
        return e;
      }
      case Tok::kEnd: return Error(at, "unexpected end of expression");
      default: return Error(at, "unexpected " + Describe(tok_));
    }
  }

  static bool IsSimpleIdent(const Expr& e) { return e.op == Op::kIdent && !e.name.empty() && e.name[0] != '.'; }

  P MakeCall(const std::string& name, bool receiver, uint32_t at, std::vector<std::unique_ptr<Expr>> args) {
    size_t n = args.size();
    // has(a.b): a presence test, not a call.
    if (!receiver && name == "has") {
      if (n != 1 || args[0]->op != Op::kSelect) return Error(at, "has() requires a single field selection argument");
      args[0]->op = Op::kHas;
      return std::move(args[0]);
    }
    if (receiver && IsSimpleIdent(*args[0]) && args[0]->name == "cel") {
      // The cel.@block form that CSE optimizers emit: cel.block([e0, e1, ...], result) binds
      // cel.index(i) to ei; cel.iterVar(i, j) / cel.accuVar(i, j) name comprehension variables.
      auto int_arg = [&](size_t i) { return args[i]->op == Op::kConst && args[i]->value.kind() == Kind::kInt; };
      if ((name == "index" && n == 2 && int_arg(1)) || ((name == "iterVar" || name == "accuVar") && n == 3 && int_arg(1) && int_arg(2))) {
        auto ident = std::make_unique<Expr>();
        ident->op = Op::kIdent;
        ident->offset = at;
        ident->name = "@" + name + std::to_string(args[1]->value.int_value());
        if (n == 3) ident->name += ":" + std::to_string(args[2]->value.int_value());
        return ident;
      }
      if (name == "block" && n == 3) {
        if (args[1]->op != Op::kList) return Error(args[1]->offset, "cel.block() needs a list literal of bindings");
        std::unique_ptr<Expr> body = std::move(args[2]);
        auto& slots = args[1]->args;
        for (size_t i = slots.size(); i > 0; --i) {
          auto e = Node(Op::kComprehension, at, {});
          if (!e.ok()) return e;
          (*e)->macro = Macro::kBind;
          (*e)->var1 = "@index" + std::to_string(i - 1);
          std::vector<std::unique_ptr<Expr>> v;
          v.push_back(std::move(slots[i - 1]));
          v.push_back(std::move(body));
          auto bound = Finish(std::move(e).value(), std::move(v));
          if (!bound.ok()) return bound;
          body = std::move(bound).value();
        }
        return body;
      }
    }
    if (receiver) {
      Macro m = Macro::kNone;
      size_t vars = 1;
      if (name == "all" && (n == 3 || n == 4)) m = Macro::kAll, vars = n - 2;
      else if (name == "exists" && (n == 3 || n == 4)) m = Macro::kExists, vars = n - 2;
      else if ((name == "exists_one" && n == 3) || (name == "existsOne" && (n == 3 || n == 4))) m = Macro::kExistsOne, vars = n - 2;
      else if (name == "map" && (n == 3 || n == 4)) m = Macro::kMap;
      else if (name == "filter" && n == 3) m = Macro::kFilter;
      else if (name == "transformList" && (n == 4 || n == 5)) m = Macro::kTransformList, vars = 2;
      else if (name == "transformMap" && (n == 4 || n == 5)) m = Macro::kTransformMap, vars = 2;
      else if (name == "bind" && n == 4 && IsSimpleIdent(*args[0]) && args[0]->name == "cel") m = Macro::kBind;
      else if (name == "optMap" && n == 3) m = Macro::kOptMap;
      else if (name == "optFlatMap" && n == 3) m = Macro::kOptFlatMap;
      if (m == Macro::kBind) {
        if (!IsSimpleIdent(*args[1])) return Error(args[1]->offset, "cel.bind() variable must be a simple name");
        auto e = Node(Op::kComprehension, at, {});
        if (!e.ok()) return e;
        (*e)->macro = m;
        (*e)->var1 = args[1]->name;
        std::vector<std::unique_ptr<Expr>> v;
        v.push_back(std::move(args[2]));
        v.push_back(std::move(args[3]));
        return Finish(std::move(e).value(), std::move(v));
      }
      if (m != Macro::kNone) {
        for (size_t i = 1; i <= vars; ++i) {
          if (!IsSimpleIdent(*args[i])) return Error(args[i]->offset, name + "() variable must be a simple name");
        }
        auto e = Node(Op::kComprehension, at, {});
        if (!e.ok()) return e;
        (*e)->macro = m;
        (*e)->var1 = args[1]->name;
        if (vars == 2) {
          (*e)->var2 = args[2]->name;
          if ((*e)->var2 == (*e)->var1) return Error(args[2]->offset, "duplicate variable name '" + (*e)->var1 + "'");
        }
        std::vector<std::unique_ptr<Expr>> v;
        v.push_back(std::move(args[0]));  // range
        size_t rest = 1 + vars;
        if (m == Macro::kMap || m == Macro::kTransformList || m == Macro::kTransformMap) {
          if (n - rest == 2) {
            v.push_back(std::move(args[rest]));
            v.push_back(std::move(args[rest + 1]));
          } else {
            v.push_back(nullptr);
            v.push_back(std::move(args[rest]));
          }
        } else {
          v.push_back(std::move(args[rest]));
        }
        return Finish(std::move(e).value(), std::move(v));
      }
    }
    auto e = Node(Op::kCall, at, std::move(args));
    if (!e.ok()) return e;
    (*e)->name = name;
    (*e)->receiver = receiver;
    return e;
  }

  P Finish(std::unique_ptr<Expr> e, std::vector<std::unique_ptr<Expr>> args) {
    int depth = 0;
    for (const auto& a : args) {
      if (a && a->depth > depth) depth = a->depth;
    }
    e->depth = depth + 1;
    e->args = std::move(args);
    if (e->depth > max_depth_) {
      return Status::ResourceExhausted(Position(src_, e->offset) + ": expression nested deeper than " +
                                       std::to_string(max_depth_) + " levels");
    }
    return e;
  }

  std::string_view src_;
  Lexer lexer_;
  Token tok_;
  int max_depth_;
  int recursion_ = 0;
};

}  // namespace

std::string Position(std::string_view source, uint32_t offset) {
  int line = 1, col = 1;
  for (size_t i = 0; i < offset && i < source.size(); ++i) {
    unsigned char c = source[i];
    if (c == '\n') {
      ++line;
      col = 1;
    } else if ((c & 0xc0) != 0x80) {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

Result<std::unique_ptr<Expr>> Parse(std::string_view source, int max_depth) {
  Parser parser(source, max_depth);
  return parser.ParseAll();
}

}  // namespace warden::cel::internal
