#include "common/policy/expr_rewrite.h"

#include <algorithm>
#include <cctype>

namespace warden::policy {
namespace {

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Returns the offset just past the string literal starting at `i` (at the quote).
size_t SkipString(std::string_view s, size_t i, bool raw) {
  const char q = s[i];
  const bool triple = i + 2 < s.size() && s[i + 1] == q && s[i + 2] == q;
  size_t j = i + (triple ? 3 : 1);
  while (j < s.size()) {
    if (!raw && s[j] == '\\') {
      j += 2;
      continue;
    }
    if (triple) {
      if (j + 2 < s.size() && s[j] == q && s[j + 1] == q && s[j + 2] == q) return j + 3;
    } else if (s[j] == q) {
      return j + 1;
    } else if (s[j] == '\n') {
      return j;  // unterminated; the compiler reports it
    }
    ++j;
  }
  return s.size();
}

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

struct Rewriter {
  const VariableLookup& lookup;
  size_t max_length;
  std::vector<std::string> stack;  // variables being expanded, for cycle detection
  std::vector<RewriteError> errors;
  // Bytes of variable text pasted in so far. Variables that each use the one before twice grow
  // the text exponentially, so the budget is charged before each expansion, not after it.
  size_t expanded_length = 0;
  bool over_budget = false;  // once set, no more expansion (its error is already reported)

  std::string Run(std::string_view s, size_t top_offset, bool top) {
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    char prev = 0;  // last non-space character emitted from the source
    while (i < s.size()) {
      const char c = s[i];
      if (c == '"' || c == '\'') {
        const size_t end = SkipString(s, i, false);
        out.append(s.substr(i, end - i));
        i = end;
        prev = '"';
        continue;
      }
      if (IsIdentStart(c)) {
        size_t j = i;
        while (j < s.size() && IsIdentChar(s[j])) ++j;
        const std::string_view ident = s.substr(i, j - i);
        // String prefixes: r"..", b'..', rb"..".
        if (j < s.size() && (s[j] == '"' || s[j] == '\'') &&
            (ident == "r" || ident == "R" || ident == "b" || ident == "B" || ident == "rb" || ident == "br" ||
             ident == "RB" || ident == "BR" || ident == "Rb" || ident == "bR" || ident == "rB" || ident == "Br")) {
          const bool raw = ident.find_first_of("rR") != std::string_view::npos;
          const size_t end = SkipString(s, j, raw);
          out.append(s.substr(i, end - i));
          i = end;
          prev = '"';
          continue;
        }
        if (prev == '.') {
          out.append(ident);
          i = j;
          prev = 'a';
          continue;
        }
        const size_t after = SkipSpace(s, j);
        const bool dotted = after < s.size() && s[after] == '.';
        std::string_view field;
        size_t field_end = after;
        if (dotted) {
          size_t k = SkipSpace(s, after + 1);
          size_t e = k;
          while (e < s.size() && IsIdentChar(s[e])) ++e;
          field = s.substr(k, e - k);
          field_end = e;
        }
        if (ident == "request" && dotted && (field == "principal" || field == "resource")) {
          out += field == "principal" ? "P" : "R";
          i = field_end;
          prev = 'a';
          continue;
        }
        if (ident == "constants") {
          out += "C";
          i = j;
          prev = 'a';
          continue;
        }
        if (ident == "globals") {
          out += "G";
          i = j;
          prev = 'a';
          continue;
        }
        if ((ident == "V" || ident == "variables") && dotted && !field.empty()) {
          const size_t at = top ? top_offset + i : top_offset;
          out += "(" + Expand(field, at) + ")";
          i = field_end;
          prev = ')';
          continue;
        }
        out.append(ident);
        i = j;
        prev = 'a';
        continue;
      }
      out.push_back(c);
      if (!std::isspace(static_cast<unsigned char>(c))) prev = c;
      ++i;
    }
    return out;
  }

  std::string Expand(std::string_view name, size_t at) {
    for (const auto& s : stack) {
      if (s == name) {
        errors.push_back({at, "variable '" + std::string(name) + "' refers to itself"});
        return "false";
      }
    }
    if (over_budget) return "false";
    if (stack.size() > 32) {
      // One error, then no more expansion: every other path through the chain would repeat it.
      over_budget = true;
      errors.push_back({at, "variable '" + stack.front() + "' nests variables deeper than 32 levels"});
      return "false";
    }
    const auto src = lookup(name);
    if (!src) {
      errors.push_back({at, "undefined variable '" + std::string(name) + "'"});
      return "false";
    }
    expanded_length += src->size() + 2;  // with the parentheses around it
    if (expanded_length > max_length) {
      over_budget = true;
      const std::string outermost = stack.empty() ? std::string(name) : stack.front();
      std::string message = "variable '" + outermost + "' makes the condition longer than the limit of " +
                            std::to_string(max_length) + " bytes when expanded";
      if (outermost != name) message += " (passed while expanding variable '" + std::string(name) + "')";
      errors.push_back({at, std::move(message)});
      return "false";
    }
    stack.emplace_back(name);
    std::string r = Run(*src, at, false);
    stack.pop_back();
    return r;
  }
};

}  // namespace

std::vector<std::string> ResourceAttrNames(std::string_view s) {
  std::vector<std::string> names;
  size_t i = 0;
  char prev = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"' || c == '\'') {
      i = SkipString(s, i, prev == 'r' || prev == 'R');
      prev = '"';
      continue;
    }
    if (IsIdentStart(c)) {
      size_t j = i;
      while (j < s.size() && IsIdentChar(s[j])) ++j;
      const std::string_view ident = s.substr(i, j - i);
      if (ident == "R" && prev != '.' && s.substr(j, 6) == ".attr.") {
        size_t k = j + 6, e = k;
        while (e < s.size() && IsIdentChar(s[e])) ++e;
        std::string name(s.substr(k, e - k));
        if (!name.empty() && std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
      }
      prev = ident.size() == 1 ? ident[0] : 'a';
      i = j;
      continue;
    }
    if (!std::isspace(static_cast<unsigned char>(c))) prev = c;
    ++i;
  }
  return names;
}

RewriteResult RewriteCondition(std::string_view source, const VariableLookup& lookup, size_t max_length) {
  Rewriter rw{lookup, max_length, {}, {}};
  RewriteResult result;
  result.text = rw.Run(source, 0, true);
  result.errors = std::move(rw.errors);
  return result;
}

}  // namespace warden::policy
