#include "control-plane/decision_batch.h"

#include <charconv>
#include <cmath>
#include <utility>

#include "common/util/json_text.h"

namespace warden::control_plane {

namespace {

// One pass over the text. Every method returns false at the first thing it does not take; the
// caller then drops everything read so far (see the header).
class BatchReader {
 public:
  BatchReader(std::string_view text, int max_depth, size_t max_entries)
      : at_(text.data()), end_(text.data() + text.size()), max_depth_(max_depth), max_entries_(max_entries) {}

  bool Read(DecisionBatch& batch) {
    SkipSpace();
    if (!Consume('{') || max_depth_ < 1) return false;
    bool have_instance = false, have_dropped = false, have_damaged = false, have_entries = false;
    std::vector<std::string_view> entry_instances;  // each entry's instance_id, checked at the end
    if (!Members([&](std::string_view key) {
          if (key == "instance_id") {
            if (have_instance) return false;
            have_instance = true;
            return PlainString(batch.instance_id);
          }
          if (key == "dropped") {
            if (have_dropped) return false;
            have_dropped = true;
            if (Literal("null")) return true;
            return Unsigned(batch.dropped);
          }
          if (key == "damaged") {
            if (have_damaged) return false;
            have_damaged = true;
            if (Literal("null")) return true;
            return Unsigned(batch.damaged);
          }
          if (key == "entries") {
            if (have_entries) return false;
            have_entries = true;
            return Entries(batch.rows, entry_instances);
          }
          return SkipValue(1);
        })) {
      return false;
    }
    SkipSpace();
    if (at_ != end_ || !have_instance || !have_entries) return false;
    if (batch.instance_id.empty() || batch.instance_id.size() > 64) return false;
    for (std::string_view instance : entry_instances) {
      if (instance != batch.instance_id) return false;
    }
    return true;
  }

 private:
  void SkipSpace() {
    while (at_ != end_ && (*at_ == ' ' || *at_ == '\n' || *at_ == '\r' || *at_ == '\t')) ++at_;
  }

  bool Consume(char c) {
    if (at_ == end_ || *at_ != c) return false;
    ++at_;
    return true;
  }

  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - at_) < word.size() || std::string_view(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  // An object's members after its '{': `member(key)` reads each value. Keys with escapes are not
  // taken (they could spell a key this reader looks for).
  template <typename Member>
  bool Members(Member&& member) {
    SkipSpace();
    if (Consume('}')) return true;
    while (true) {
      std::string_view key;
      if (!PlainString(key)) return false;
      SkipSpace();
      if (!Consume(':')) return false;
      SkipSpace();
      if (!member(key)) return false;
      SkipSpace();
      if (Consume('}')) return true;
      if (!Consume(',')) return false;
      SkipSpace();
    }
  }

  // The entries array after its key: each entry an object, kept as its own text.
  bool Entries(std::vector<DecisionRow>& rows, std::vector<std::string_view>& instances) {
    if (!Consume('[') || max_depth_ < 2) return false;
    SkipSpace();
    if (Consume(']')) return true;
    while (true) {
      if (rows.size() == max_entries_) return false;  // the tree path answers 413
      rows.emplace_back();
      if (!Entry(rows.back(), instances)) return false;
      SkipSpace();
      if (Consume(']')) return true;
      if (!Consume(',')) return false;
      SkipSpace();
    }
  }

  // One entry: the fields DecisionStore::Ingest requires, of the kinds it requires, each once.
  bool Entry(DecisionRow& row, std::vector<std::string_view>& instances) {
    const char* start = at_;
    if (!Consume('{') || max_depth_ < 3) return false;
    bool sequence = false, time = false, subject = false, resource = false, action = false, decision = false,
         api = false, instance = false;
    auto once = [](bool& seen) { return !std::exchange(seen, true); };
    bool read = Members([&](std::string_view key) {
      if (key == "sequence") return once(sequence) && Unsigned(row.sequence) && row.sequence > 0;
      if (key == "time") {
        std::string_view text;
        if (!once(time) || !PlainString(text)) return false;
        auto parsed = ParseRfc3339Nanos(text);
        if (!parsed.ok()) return false;
        row.time_ns = *parsed;
        return true;
      }
      if (key == "subject") return once(subject) && Entity(row.subject_type, row.subject_id);
      if (key == "resource") return once(resource) && Entity(row.resource_type, row.resource_id);
      if (key == "action") return once(action) && PlainString(row.action);
      if (key == "decision") {
        std::string_view text;
        if (!once(decision) || !PlainString(text) || (text != "allow" && text != "deny")) return false;
        row.allowed = text == "allow";
        return true;
      }
      if (key == "api") return once(api) && PlainString(row.api);
      if (key == "instance_id") {
        std::string_view text;
        if (!once(instance) || !PlainString(text)) return false;
        instances.push_back(text);
        return true;
      }
      return SkipValue(3);
    });
    if (!read || !sequence || !time || !subject || !resource || !action || !decision) return false;
    row.body = std::string_view(start, static_cast<size_t>(at_ - start));
    return true;
  }

  // {"type": "...", "id": "..."} and whatever else the object holds.
  bool Entity(std::string_view& type, std::string_view& id) {
    if (!Consume('{') || max_depth_ < 4) return false;
    bool have_type = false, have_id = false;
    auto once = [](bool& seen) { return !std::exchange(seen, true); };
    if (!Members([&](std::string_view key) {
          if (key == "type") return once(have_type) && PlainString(type);
          if (key == "id") return once(have_id) && PlainString(id);
          return SkipValue(4);
        })) {
      return false;
    }
    return have_type && have_id;
  }

  // A non-negative integer as nlohmann types it unsigned: digits, no sign, fraction or exponent,
  // no leading zero, within 64 bits.
  bool Unsigned(uint64_t& value) {
    const char* start = at_;
    while (at_ != end_ && *at_ >= '0' && *at_ <= '9') ++at_;
    if (at_ == start || (*start == '0' && at_ - start > 1)) return false;
    if (at_ != end_ && (*at_ == '.' || *at_ == 'e' || *at_ == 'E')) return false;
    auto [end, error] = std::from_chars(start, at_, value);
    return error == std::errc() && end == at_;
  }

  // A string without escapes, as a view of the text between its quotes.
  bool PlainString(std::string_view& out) {
    if (at_ == end_ || *at_ != '"') return false;
    const char* start = at_ + 1;
    bool escaped = false;
    if (!String(escaped) || escaped) return false;
    out = std::string_view(start, static_cast<size_t>(at_ - 1 - start));
    return true;
  }

  // Any value, checked and passed over; `depth` is that of the container holding it.
  bool SkipValue(int depth) {
    if (at_ == end_) return false;
    switch (*at_) {
      case '{':
        if (depth + 1 > max_depth_) return false;
        ++at_;
        return Members([&](std::string_view) { return SkipValue(depth + 1); });
      case '[': {
        if (depth + 1 > max_depth_) return false;
        ++at_;
        SkipSpace();
        if (Consume(']')) return true;
        while (true) {
          if (!SkipValue(depth + 1)) return false;
          SkipSpace();
          if (Consume(']')) return true;
          if (!Consume(',')) return false;
          SkipSpace();
        }
      }
      case '"': {
        bool escaped = false;
        return String(escaped);
      }
      case 't': return Literal("true");
      case 'f': return Literal("false");
      case 'n': return Literal("null");
      default: return Number();
    }
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  // RFC 8259's number grammar; integers within 64 bits, anything else a finite double (nlohmann
  // refuses a number that overflows a double).
  bool Number() {
    const char* start = at_;
    bool negative = Consume('-');
    if (at_ == end_ || !IsDigit(*at_)) return false;
    if (*at_ == '0') {
      ++at_;
    } else {
      while (at_ != end_ && IsDigit(*at_)) ++at_;
    }
    bool integral = true;
    if (Consume('.')) {
      integral = false;
      if (at_ == end_ || !IsDigit(*at_)) return false;
      while (at_ != end_ && IsDigit(*at_)) ++at_;
    }
    if (at_ != end_ && (*at_ == 'e' || *at_ == 'E')) {
      integral = false;
      ++at_;
      if (at_ != end_ && (*at_ == '+' || *at_ == '-')) ++at_;
      if (at_ == end_ || !IsDigit(*at_)) return false;
      while (at_ != end_ && IsDigit(*at_)) ++at_;
    }
    if (integral && at_ - start <= 18) return true;  // fits either way; the common case
    if (integral) {
      if (negative) {
        int64_t value;
        if (auto [end, error] = std::from_chars(start, at_, value); error == std::errc() && end == at_) return true;
      } else {
        uint64_t value;
        if (auto [end, error] = std::from_chars(start, at_, value); error == std::errc() && end == at_) return true;
      }
    }
    double value = 0;
    auto [end, error] = std::from_chars(start, at_, value);
    return error == std::errc() && end == at_ && std::isfinite(value);
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

  // One escape after its backslash; \uD800-\uDBFF must pair with \uDC00-\uDFFF.
  bool Escape() {
    if (at_ == end_) return false;
    switch (*at_++) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': return true;
      case 'u': break;
      default: return false;
    }
    uint32_t code = 0;
    if (!Hex4(code) || (code >= 0xDC00 && code <= 0xDFFF)) return false;
    if (code >= 0xD800 && code <= 0xDBFF) {
      uint32_t low = 0;
      if (!Consume('\\') || !Consume('u') || !Hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
    }
    return true;
  }

  // One UTF-8 sequence starting at a byte >= 0x80, skipped when valid (Utf8SequenceLength).
  bool Utf8Sequence() {
    size_t length = Utf8SequenceLength(std::string_view(at_, static_cast<size_t>(end_ - at_)));
    if (length == 0) return false;
    at_ += length;
    return true;
  }

  // A string from its opening quote; `escaped` says whether it held an escape.
  bool String(bool& escaped) {
    ++at_;  // '"'
    while (true) {
      while (at_ != end_) {  // the common case: plain ASCII
        auto c = static_cast<unsigned char>(*at_);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++at_;
      }
      if (at_ == end_) return false;
      auto c = static_cast<unsigned char>(*at_);
      if (c == '"') {
        ++at_;
        return true;
      }
      if (c == '\\') {
        ++at_;
        escaped = true;
        if (!Escape()) return false;
      } else if (c < 0x20 || !Utf8Sequence()) {
        return false;
      }
    }
  }

  const char* at_;
  const char* end_;
  int max_depth_;
  size_t max_entries_;
};

}  // namespace

std::optional<DecisionBatch> ReadDecisionBatch(std::string_view text, int max_depth, size_t max_entries) {
  DecisionBatch batch;
  BatchReader reader(text, max_depth, max_entries);
  if (!reader.Read(batch)) return std::nullopt;
  return batch;
}

}  // namespace warden::control_plane
