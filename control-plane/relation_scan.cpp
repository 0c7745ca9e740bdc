#include "control-plane/relation_scan.h"

#include <array>
#include <string>
#include <string_view>

namespace warden::control_plane {
namespace {

using directory::RelationTuple;

// The length of the well-formed UTF-8 sequence starting at `p` (a byte >= 0x80), or 0. The
// ranges are RFC 3629's, which nlohmann's lexer enforces too: no overlong forms, no surrogates,
// nothing above U+10FFFF.
size_t Utf8SequenceLength(const unsigned char* p, const unsigned char* end) {
  auto follows = [&](size_t i, unsigned lo, unsigned hi) { return p + i < end && p[i] >= lo && p[i] <= hi; };
  auto tail = [&](size_t i) { return follows(i, 0x80, 0xBF); };
  unsigned c = p[0];
  if (c >= 0xC2 && c <= 0xDF) return tail(1) ? 2 : 0;
  if (c == 0xE0) return follows(1, 0xA0, 0xBF) && tail(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return tail(1) && tail(2) ? 3 : 0;
  if (c == 0xED) return follows(1, 0x80, 0x9F) && tail(2) ? 3 : 0;
  if (c == 0xF0) return follows(1, 0x90, 0xBF) && tail(2) && tail(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return tail(1) && tail(2) && tail(3) ? 4 : 0;
  if (c == 0xF4) return follows(1, 0x80, 0x8F) && tail(2) && tail(3) ? 4 : 0;
  return 0;
}

class Scanner {
 public:
  explicit Scanner(std::string_view text)
      : p_(reinterpret_cast<const unsigned char*>(text.data())), end_(p_ + text.size()) {}

  // Skips JSON whitespace, then takes `c` if it comes next.
  bool Eat(char c) {
    SkipSpace();
    if (p_ < end_ && *p_ == static_cast<unsigned char>(c)) {
      ++p_;
      return true;
    }
    return false;
  }

  bool AtEnd() {
    SkipSpace();
    return p_ == end_;
  }

  // A string literal, decoded into `out`. False for anything this reader leaves to the general
  // parser: a \u escape, a raw control character, ill-formed UTF-8, an unterminated string.
  bool String(std::string& out) {
    if (!Eat('"')) return false;
    out.clear();
    while (true) {
      const unsigned char* run = p_;
      p_ = PlainRunEnd(p_);
      out.append(reinterpret_cast<const char*>(run), static_cast<size_t>(p_ - run));
      if (p_ == end_) return false;
      unsigned char c = *p_;
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        size_t length = Utf8SequenceLength(p_, end_);
        if (length == 0) return false;
        out.append(reinterpret_cast<const char*>(p_), length);
        p_ += length;
        continue;
      }
      // A backslash: the one-character escapes; \u is left to the general parser.
      if (p_ + 1 == end_) return false;
      char decoded;
      switch (p_[1]) {
        case '"': decoded = '"'; break;
        case '\\': decoded = '\\'; break;
        case '/': decoded = '/'; break;
        case 'b': decoded = '\b'; break;
        case 'f': decoded = '\f'; break;
        case 'n': decoded = '\n'; break;
        case 'r': decoded = '\r'; break;
        case 't': decoded = '\t'; break;
        default: return false;
      }
      out += decoded;
      p_ += 2;
    }
  }

  // An object holding only relation fields, every one a string, each at most once, the required
  // ones present and not empty (as directory::RelationFromJson requires).
  bool Relation(RelationTuple& r) {
    if (!Eat('{')) return false;
    enum : unsigned {
      kObjectType = 1, kObjectId = 2, kRelation = 4, kSubjectType = 8, kSubjectId = 16, kSubjectRelation = 32
    };
    unsigned seen = 0;
    do {
      std::string_view key;
      if (!PlainKey(key) || !Eat(':')) return false;
      std::string* field = nullptr;
      unsigned bit = 0;
      if (key == "object_type") field = &r.object_type, bit = kObjectType;
      else if (key == "object_id") field = &r.object_id, bit = kObjectId;
      else if (key == "relation") field = &r.relation, bit = kRelation;
      else if (key == "subject_type") field = &r.subject_type, bit = kSubjectType;
      else if (key == "subject_id") field = &r.subject_id, bit = kSubjectId;
      else if (key == "subject_relation") field = &r.subject_relation, bit = kSubjectRelation;
      else return false;
      if (seen & bit) return false;
      seen |= bit;
      if (!String(*field)) return false;
    } while (Eat(','));
    if (!Eat('}')) return false;
    if (!(seen & kSubjectRelation)) r.subject_relation.clear();
    return (seen | kSubjectRelation) == 63u && !r.object_type.empty() && !r.object_id.empty() &&
           !r.relation.empty() && !r.subject_type.empty() && !r.subject_id.empty();
  }

  // A key: a string literal of plain characters only, as every field name is, viewed in place.
  // A key with an escape or a non-ASCII byte is not a field name this reader knows (a \u escape
  // could spell one, which the general parser decodes).
  bool PlainKey(std::string_view& key) {
    if (!Eat('"')) return false;
    const unsigned char* start = p_;
    p_ = PlainRunEnd(p_);
    if (p_ == end_ || *p_ != '"') return false;
    key = std::string_view(reinterpret_cast<const char*>(start), static_cast<size_t>(p_ - start));
    ++p_;
    return true;
  }

 private:
  // The end of the run of bytes from `p` that stand for themselves in a JSON string: printable
  // ASCII but for '"' and '\\'.
  const unsigned char* PlainRunEnd(const unsigned char* p) const {
    static constexpr auto kPlain = [] {
      std::array<bool, 256> plain{};
      for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
      return plain;
    }();
    while (p < end_ && kPlain[*p]) ++p;
    return p;
  }

  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  const unsigned char* p_;
  const unsigned char* end_;
};

}  // namespace

std::optional<RelationTuple> ScanRelation(std::string_view text) {
  Scanner scanner(text);
  RelationTuple r;
  if (!scanner.Relation(r) || !scanner.AtEnd()) return std::nullopt;
  return r;
}

std::optional<std::vector<RelationTuple>> ScanRelationBatch(std::string_view text) {
  Scanner scanner(text);
  std::string_view key;
  if (!scanner.Eat('{') || !scanner.PlainKey(key) || key != "relations" || !scanner.Eat(':') || !scanner.Eat('[')) {
    return std::nullopt;
  }
  std::vector<RelationTuple> relations;
  relations.reserve(text.size() / 128);  // a typical relation's JSON is 100-150 bytes
  do {
    RelationTuple& r = relations.emplace_back();
    if (!scanner.Relation(r)) return std::nullopt;
  } while (scanner.Eat(','));
  if (!scanner.Eat(']') || !scanner.Eat('}') || !scanner.AtEnd()) return std::nullopt;
  return relations;
}

}  // namespace warden::control_plane
