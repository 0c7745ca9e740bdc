#include "common/http/json_fast_parse.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

#include "common/util/json_text.h"

namespace warden::http {

namespace {

using nlohmann::json;

// Recursive descent over the text. Every method returns false at the first thing it does not
// take; nothing partial escapes, since the caller then discards `out`.
class FastParser {
 public:
  FastParser(std::string_view text, int max_depth)
      : at_(text.data()), end_(text.data() + text.size()), max_depth_(max_depth) {}

  bool Document(json& out) {
    SkipSpace();
    if (!Value(out, 0)) return false;
    SkipSpace();
    return at_ == end_;
  }

 private:
  void SkipSpace() {
    while (at_ != end_ && (*at_ == ' ' || *at_ == '\n' || *at_ == '\r' || *at_ == '\t')) ++at_;
  }

  bool Value(json& out, int depth) {
    if (at_ == end_) return false;
    switch (*at_) {
      case '{': return Object(out, depth + 1);
      case '[': return Array(out, depth + 1);
      case '"': {
        out = json::value_t::string;
        return String(out.get_ref<std::string&>());
      }
      case 't': return Literal("true", out, json(true));
      case 'f': return Literal("false", out, json(false));
      case 'n': return Literal("null", out, json(nullptr));
      default: return Number(out);
    }
  }

  bool Literal(std::string_view word, json& out, json value) {
    if (static_cast<size_t>(end_ - at_) < word.size() || std::string_view(at_, word.size()) != word) return false;
    at_ += word.size();
    out = std::move(value);
    return true;
  }

  bool Object(json& out, int depth) {
    if (depth > max_depth_) return false;
    ++at_;  // '{'
    out = json::value_t::object;
    auto& members = out.get_ref<json::object_t&>();
    SkipSpace();
    if (at_ != end_ && *at_ == '}') {
      ++at_;
      return true;
    }
    std::string key;
    while (true) {
      if (at_ == end_ || *at_ != '"') return false;
      key.clear();
      if (!String(key)) return false;
      SkipSpace();
      if (at_ == end_ || *at_ != ':') return false;
      ++at_;
      SkipSpace();
      // As nlohmann does, a repeated key keeps its first position and takes the last value.
      if (!Value(members[key], depth)) return false;
      SkipSpace();
      if (at_ == end_) return false;
      if (*at_ == '}') {
        ++at_;
        return true;
      }
      if (*at_ != ',') return false;
      ++at_;
      SkipSpace();
    }
  }

  bool Array(json& out, int depth) {
    if (depth > max_depth_) return false;
    ++at_;  // '['
    out = json::value_t::array;
    auto& items = out.get_ref<json::array_t&>();
    SkipSpace();
    if (at_ != end_ && *at_ == ']') {
      ++at_;
      return true;
    }
    while (true) {
      items.emplace_back();
      if (!Value(items.back(), depth)) return false;
      SkipSpace();
      if (at_ == end_) return false;
      if (*at_ == ']') {
        ++at_;
        return true;
      }
      if (*at_ != ',') return false;
      ++at_;
      SkipSpace();
    }
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  // RFC 8259's grammar, then nlohmann's typing: an integer is unsigned when it has no sign and
  // fits 64 bits, signed when negative and fits, otherwise (like any fraction or exponent) a
  // double. Out-of-range doubles are left to nlohmann (it refuses overflow, keeps underflow).
  bool Number(json& out) {
    const char* start = at_;
    const char* p = at_;
    bool negative = false;
    if (p != end_ && *p == '-') {
      negative = true;
      ++p;
    }
    if (p == end_ || !IsDigit(*p)) return false;
    if (*p == '0') {
      ++p;
    } else {
      while (p != end_ && IsDigit(*p)) ++p;
    }
    bool integral = true;
    if (p != end_ && *p == '.') {
      integral = false;
      ++p;
      if (p == end_ || !IsDigit(*p)) return false;
      while (p != end_ && IsDigit(*p)) ++p;
    }
    if (p != end_ && (*p == 'e' || *p == 'E')) {
      integral = false;
      ++p;
      if (p != end_ && (*p == '+' || *p == '-')) ++p;
      if (p == end_ || !IsDigit(*p)) return false;
      while (p != end_ && IsDigit(*p)) ++p;
    }
    at_ = p;
    if (integral) {
      if (negative) {
        int64_t value = 0;
        auto [end, error] = std::from_chars(start, p, value);
        if (error == std::errc() && end == p) {
          out = value;
          return true;
        }
      } else {
        uint64_t value = 0;
        auto [end, error] = std::from_chars(start, p, value);
        if (error == std::errc() && end == p) {
          out = value;
          return true;
        }
      }
    }
    double value = 0;
    auto [end, error] = std::from_chars(start, p, value);
    if (error != std::errc() || end != p || !std::isfinite(value)) return false;
    out = value;
    return true;
  }

  static int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  bool Hex4(uint32_t& code) {
    if (end_ - at_ < 4) return false;
    code = 0;
    for (int i = 0; i < 4; ++i) {
      int digit = HexDigit(at_[i]);
      if (digit < 0) return false;
      code = code * 16 + static_cast<uint32_t>(digit);
    }
    at_ += 4;
    return true;
  }

  static void AppendUtf8(std::string& out, uint32_t code) {
    if (code < 0x80) {
      out.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (code >> 6)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (code >> 12)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (code >> 18)));
      out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
  }

  // One escape after its backslash; \uD800-\uDBFF must pair with \uDC00-\uDFFF.
  bool Escape(std::string& out) {
    if (at_ == end_) return false;
    char c = *at_++;
    switch (c) {
      case '"': out.push_back('"'); return true;
      case '\\': out.push_back('\\'); return true;
      case '/': out.push_back('/'); return true;
      case 'b': out.push_back('\b'); return true;
      case 'f': out.push_back('\f'); return true;
      case 'n': out.push_back('\n'); return true;
      case 'r': out.push_back('\r'); return true;
      case 't': out.push_back('\t'); return true;
      case 'u': break;
      default: return false;
    }
    uint32_t code = 0;
    if (!Hex4(code)) return false;
    if (code >= 0xDC00 && code <= 0xDFFF) return false;
    if (code >= 0xD800 && code <= 0xDBFF) {
      if (end_ - at_ < 2 || at_[0] != '\\' || at_[1] != 'u') return false;
      at_ += 2;
      uint32_t low = 0;
      if (!Hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    AppendUtf8(out, code);
    return true;
  }

  // One UTF-8 sequence starting at a byte >= 0x80, copied when valid (Utf8SequenceLength).
  bool Utf8Sequence(std::string& out) {
    size_t length = Utf8SequenceLength(std::string_view(at_, static_cast<size_t>(end_ - at_)));
    if (length == 0) return false;
    out.append(at_, length);
    at_ += length;
    return true;
  }

  // A string after its opening quote is at at_; appends its decoded text to `out`.
  bool String(std::string& out) {
    ++at_;  // '"'
    while (true) {
      // The common case: a run of plain ASCII, copied at once.
      const char* run = at_;
      while (at_ != end_) {
        auto c = static_cast<unsigned char>(*at_);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++at_;
      }
      out.append(run, static_cast<size_t>(at_ - run));
      if (at_ == end_) return false;
      auto c = static_cast<unsigned char>(*at_);
      if (c == '"') {
        ++at_;
        return true;
      }
      if (c == '\\') {
        ++at_;
        if (!Escape(out)) return false;
      } else if (c < 0x20) {
        return false;
      } else if (!Utf8Sequence(out)) {
        return false;
      }
    }
  }

  const char* at_;
  const char* end_;
  int max_depth_;
};

}  // namespace

bool FastParseJson(std::string_view text, int max_depth, nlohmann::json& out) {
  FastParser parser(text, max_depth);
  return parser.Document(out);
}

}  // namespace warden::http
