#include "common/directory/permission_expression.h"

#include <cctype>

namespace warden::directory {

std::string FormatPos(const std::string& source, SourcePos pos) {
  std::string out = source.empty() ? std::string("manifest") : source;
  if (pos.line > 0) {
    out.push_back(':');
    out.append(std::to_string(pos.line));
    if (pos.column > 0) {
      out.push_back(':');
      out.append(std::to_string(pos.column));
    }
  }
  out.append(": ");
  return out;
}

namespace {

class ExprParser {
 public:
  ExprParser(std::string_view text, const std::string& source, SourcePos start)
      : text_(text), source_(source), line_(start.line), col_(start.column) {}

  Result<ExprAst> Parse() {
    SkipSpace();
    if (AtEnd()) return Error("empty permission expression");
    auto expr = ParseUnion();
    if (!expr.ok()) return expr;
    SkipSpace();
    if (!AtEnd()) return Error(std::string("unexpected '") + text_[i_] + "' in permission expression");
    return expr;
  }

 private:
  bool AtEnd() const { return i_ >= text_.size(); }
  SourcePos Pos() const { return {line_, col_}; }
  void Advance() {
    if (text_[i_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++i_;
  }
  void SkipSpace() {
    while (!AtEnd() && std::isspace(static_cast<unsigned char>(text_[i_]))) Advance();
  }
  Status Error(const std::string& reason) const { return Status::InvalidArgument(FormatPos(source_, Pos()) + reason); }

  // Consumes `op` (after optional space) if it is next.
  bool Take(std::string_view op) {
    SkipSpace();
    if (text_.substr(i_, op.size()) != op) return false;
    // `-` followed by `>` is an arrow, not an exclusion.
    if (op == "-" && text_.substr(i_, 2) == "->") return false;
    for (size_t k = 0; k < op.size(); ++k) Advance();
    return true;
  }

  static ExprAst Combine(ExprAst::Kind kind, ExprAst left, ExprAst right) {
    // Flatten chains of the same associative operator (a | b | c) into one node.
    if (left.kind == kind && kind != ExprAst::Kind::kExclusion) {
      left.children.push_back(std::move(right));
      return left;
    }
    ExprAst node;
    node.kind = kind;
    node.pos = left.pos;
    node.children.push_back(std::move(left));
    node.children.push_back(std::move(right));
    return node;
  }

  Result<ExprAst> ParseUnion() {
    auto left = ParseIntersection();
    if (!left.ok()) return left;
    ExprAst acc = std::move(*left);
    while (Take("|") || Take("+")) {
      auto right = ParseIntersection();
      if (!right.ok()) return right;
      acc = Combine(ExprAst::Kind::kUnion, std::move(acc), std::move(*right));
    }
    return acc;
  }
  Result<ExprAst> ParseIntersection() {
    auto left = ParseExclusion();
    if (!left.ok()) return left;
    ExprAst acc = std::move(*left);
    while (Take("&")) {
      auto right = ParseExclusion();
      if (!right.ok()) return right;
      acc = Combine(ExprAst::Kind::kIntersection, std::move(acc), std::move(*right));
    }
    return acc;
  }
  Result<ExprAst> ParseExclusion() {
    auto left = ParseTerm();
    if (!left.ok()) return left;
    ExprAst acc = std::move(*left);
    while (Take("-")) {
      auto right = ParseTerm();
      if (!right.ok()) return right;
      acc = Combine(ExprAst::Kind::kExclusion, std::move(acc), std::move(*right));
    }
    return acc;
  }
  Result<ExprAst> ParseTerm() {
    SkipSpace();
    if (AtEnd()) return Error("expected a relation or permission name, found the end of the expression");
    if (Take("(")) {
      if (++depth_ > 64) return Error("permission expression nested more than 64 parentheses deep");
      auto inner = ParseUnion();
      if (!inner.ok()) return inner;
      if (!Take(")")) return Error("expected ')'");
      --depth_;
      return inner;
    }
    ExprAst node;
    node.pos = Pos();
    auto name = ParseName();
    if (!name.ok()) return name.status();
    node.name = std::move(*name);
    if (Take("->")) {
      SkipSpace();
      auto target = ParseName();
      if (!target.ok()) return target.status();
      node.kind = ExprAst::Kind::kArrow;
      node.target = std::move(*target);
    }
    return node;
  }
  Result<std::string> ParseName() {
    size_t start = i_;
    auto is_start = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; };
    auto is_rest = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    if (AtEnd() || !is_start(text_[i_])) {
      if (AtEnd()) return Error("expected a name, found the end of the expression");
      return Error(std::string("expected a relation or permission name, found '") + text_[i_] + "'");
    }
    while (!AtEnd() && is_rest(text_[i_])) Advance();
    return std::string(text_.substr(start, i_ - start));
  }

  std::string_view text_;
  const std::string& source_;
  size_t i_ = 0;
  int line_;
  int col_;
  int depth_ = 0;
};

}  // namespace

Result<ExprAst> ParsePermissionExpression(std::string_view text, const std::string& source, SourcePos start) {
  return ExprParser(text, source, start).Parse();
}

}  // namespace warden::directory
