#include "common/directory/schema_zed.h"

#include <cctype>

#include "common/directory/permission_expression.h"

namespace warden::directory {
namespace {

class ZedParser {
 public:
  ZedParser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  Result<ManifestAst> Parse() {
    ManifestAst ast;
    ast.source = source_;
    for (;;) {
      WARDEN_RETURN_IF_ERROR(SkipSpaceAndComments());
      if (AtEnd()) break;
      SourcePos pos = Pos();
      std::string word = Word();
      if (word == "definition") {
        TypeAst type;
        type.pos = pos;
        WARDEN_RETURN_IF_ERROR(ParseDefinition(type));
        ast.types.push_back(std::move(type));
      } else if (word == "caveat") {
        return Error(pos, "caveats are not supported; express the condition in a policy instead");
      } else if (word.empty()) {
        return Error(pos, std::string("unexpected '") + text_[i_] + "' (expected 'definition')");
      } else {
        return Error(pos, "unexpected '" + word + "' (expected 'definition')");
      }
    }
    return ast;
  }

 private:
  bool AtEnd() const { return i_ >= text_.size(); }
  SourcePos Pos() const { return {line_, col_}; }
  Status Error(SourcePos pos, const std::string& reason) const {
    return Status::InvalidArgument(FormatPos(source_, pos) + reason);
  }
  void Advance() {
    if (text_[i_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++i_;
  }
  // Skips spaces; with `stop_at_newline`, stops at a newline (statements end there).
  Status SkipSpaceAndComments(bool stop_at_newline = false) {
    while (!AtEnd()) {
      char c = text_[i_];
      if (c == '\n' && stop_at_newline) return Status::Ok();
      if (std::isspace(static_cast<unsigned char>(c))) {
        Advance();
      } else if (text_.substr(i_, 2) == "//") {
        while (!AtEnd() && text_[i_] != '\n') Advance();
      } else if (text_.substr(i_, 2) == "/*") {
        SourcePos start = Pos();
        Advance();
        Advance();
        while (!AtEnd() && text_.substr(i_, 2) != "*/") Advance();
        if (AtEnd()) return Error(start, "unterminated /* comment");
        Advance();
        Advance();
      } else {
        return Status::Ok();
      }
    }
    return Status::Ok();
  }
  static bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '/'; }
  std::string Word() {
    size_t start = i_;
    while (!AtEnd() && IsWordChar(text_[i_])) Advance();
    return std::string(text_.substr(start, i_ - start));
  }
  bool Take(char c) {
    if (!AtEnd() && text_[i_] == c) {
      Advance();
      return true;
    }
    return false;
  }

  Status ParseDefinition(TypeAst& type) {
    WARDEN_RETURN_IF_ERROR(SkipSpaceAndComments());
    SourcePos name_pos = Pos();
    type.name = Word();
    if (type.name.empty()) return Error(name_pos, "expected a definition name");
    WARDEN_RETURN_IF_ERROR(SkipSpaceAndComments());
    if (!Take('{')) return Error(Pos(), "expected '{' after 'definition " + type.name + "'");
    for (;;) {
      WARDEN_RETURN_IF_ERROR(SkipSpaceAndComments());
      if (AtEnd()) return Error(Pos(), "definition '" + type.name + "' is not closed with '}'");
      if (Take('}')) return Status::Ok();
      SourcePos pos = Pos();
      std::string word = Word();
      if (word == "relation") {
        RelationAst relation;
        relation.pos = pos;
        WARDEN_RETURN_IF_ERROR(ParseRelation(type.name, relation));
        type.relations.push_back(std::move(relation));
      } else if (word == "permission") {
        PermissionAst permission;
        permission.pos = pos;
        WARDEN_RETURN_IF_ERROR(ParsePermission(type.name, permission));
        type.permissions.push_back(std::move(permission));
      } else {
        return Error(pos, "definition '" + type.name + "': expected 'relation', 'permission' or '}', found '" +
                              (word.empty() ? std::string(1, text_[i_]) : word) + "'");
      }
    }
  }

  Status ParseRelation(const std::string& type, RelationAst& relation) {
    WARDEN_RETURN_IF_ERROR(SkipSpaceAndComments());
    SourcePos name_pos = Pos();
    relation.name = Word();
    if (relation.name.empty()) return Error(name_pos, "expected a relation name in definition '" + type + "'");
    WARDEN_RETURN_IF_ERROR(SkipSpaceAndComments());
    if (!Take(':')) return Error(Pos(), type + "#" + relation.name + ": expected ':' and the allowed subject types");
    for (;;) {
      WARDEN_RETURN_IF_ERROR(SkipSpaceAndComments());
      SubjectTypeAst subject;
      subject.pos = Pos();
      subject.type = Word();
      if (subject.type.empty()) return Error(subject.pos, type + "#" + relation.name + ": expected a subject type");
      if (Take(':')) {
        if (!Take('*')) return Error(Pos(), type + "#" + relation.name + ": expected '*' after '" + subject.type + ":'");
        subject.wildcard = true;
      } else if (Take('#')) {
        SourcePos rel_pos = Pos();
        subject.relation = Word();
        if (subject.relation.empty()) return Error(rel_pos, type + "#" + relation.name + ": expected a relation after '#'");
      }
      relation.allowed.push_back(std::move(subject));
      WARDEN_RETURN_IF_ERROR(SkipSpaceAndComments(/*stop_at_newline=*/true));
      if (!AtEnd() && text_.substr(i_, 4) == "with") {
        return Error(Pos(), type + "#" + relation.name + ": caveats ('with') are not supported");
      }
      if (Take('|')) continue;
      if (!AtEnd() && text_[i_] == ';') Advance();
      return Status::Ok();
    }
  }

  Status ParsePermission(const std::string& type, PermissionAst& permission) {
    WARDEN_RETURN_IF_ERROR(SkipSpaceAndComments());
    SourcePos name_pos = Pos();
    permission.name = Word();
    if (permission.name.empty()) return Error(name_pos, "expected a permission name in definition '" + type + "'");
    WARDEN_RETURN_IF_ERROR(SkipSpaceAndComments());
    if (!Take('=')) return Error(Pos(), type + "#" + permission.name + ": expected '=' and an expression");
    WARDEN_RETURN_IF_ERROR(SkipSpaceAndComments());
    // The expression runs to the end of the line, unless parentheses are open or the next line
    // continues it with an operator.
    SourcePos start = Pos();
    size_t begin = i_;
    int parens = 0;
    while (!AtEnd()) {
      char c = text_[i_];
      if (c == '(') ++parens;
      if (c == ')') --parens;
      if (parens <= 0 && (c == '}' || c == ';')) break;
      if (text_.substr(i_, 2) == "//" || text_.substr(i_, 2) == "/*") break;
      if (c == '\n' && parens <= 0) {
        size_t j = i_ + 1;
        while (j < text_.size() && (text_[j] == ' ' || text_[j] == '\t' || text_[j] == '\r')) ++j;
        bool continues = j < text_.size() && (text_[j] == '+' || text_[j] == '|' || text_[j] == '&' ||
                                              (text_[j] == '-' && text_.substr(j, 2) != "->"));
        if (!continues) break;
      }
      Advance();
    }
    std::string_view expr_text = text_.substr(begin, i_ - begin);
    if (expr_text.find("nil") != std::string_view::npos && expr_text.find("nil") + 3 <= expr_text.size()) {
      size_t at = expr_text.find("nil");
      bool word_start = at == 0 || !IsWordChar(expr_text[at - 1]);
      bool word_end = at + 3 == expr_text.size() || !IsWordChar(expr_text[at + 3]);
      if (word_start && word_end) return Error(start, type + "#" + permission.name + ": 'nil' is not supported");
    }
    if (expr_text.find(".any(") != std::string_view::npos || expr_text.find(".all(") != std::string_view::npos) {
      return Error(start, type + "#" + permission.name + ": arrow functions (.any/.all) are not supported; use '->'");
    }
    auto expr = ParsePermissionExpression(expr_text, source_, start);
    if (!expr.ok()) return Status::InvalidArgument(expr.status().message() + " (in permission " + type + "#" + permission.name + ")");
    permission.expr = std::move(*expr);
    if (!AtEnd() && text_[i_] == ';') Advance();
    return Status::Ok();
  }

  std::string_view text_;
  const std::string& source_;
  size_t i_ = 0;
  int line_ = 1;
  int col_ = 1;
};

}  // namespace

Result<ManifestAst> ParseSchemaZed(std::string_view text, const std::string& source) {
  return ZedParser(text, source).Parse();
}

}  // namespace warden::directory
