#include "common/util/json_text.h"

#include <cstdint>
#include <cstring>

namespace warden {

namespace {

// Whether any of the 8 bytes of `word` needs escaping in a JSON string: a control character
// (below 0x20), '"' or '\\'. The classic word tests for a byte below n ((w - n*0x01..) & ~w &
// 0x80..) and for a zero byte (the same with n = 1, after XOR with the character): a borrow can
// blur which byte it is, never whether there is one.
bool WordNeedsEscape(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
  uint64_t below_space = (word - kOnes * 0x20) & ~word & kHighs;
  uint64_t quote = word ^ (kOnes * '"');
  uint64_t backslash = word ^ (kOnes * '\\');
  uint64_t has_quote = (quote - kOnes) & ~quote & kHighs;
  uint64_t has_backslash = (backslash - kOnes) & ~backslash & kHighs;
  return (below_space | has_quote | has_backslash) != 0;
}

}  // namespace

size_t Utf8SequenceLength(std::string_view text) {
  if (text.empty()) return 0;
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(0);
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  // Bytes that pass through unchanged are copied a run at a time and tested 8 at a time: escapes
  // are rare, and a byte at a time cost hot serializers (decision logs, responses) several times
  // more.
  if (text.empty()) {  // (its data may be null, which memcpy must not see)
    out += '"';
    return;
  }
  const char* data = text.data();
  size_t size = text.size();
  size_t run = 0;  // where the bytes not yet copied start
  size_t i = 0;
  while (i < size) {
    if (i + 8 <= size) {
      uint64_t word;
      std::memcpy(&word, data + i, 8);
      if (!WordNeedsEscape(word)) {
        i += 8;
        continue;
      }
    }
    unsigned char c = static_cast<unsigned char>(data[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(data + run, i - run);
    run = ++i;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(data + run, size - run);
  out += '"';
}

Status CheckJsonNesting(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return Status::InvalidArgument("JSON nests deeper than " + std::to_string(max_depth) +
                                       " levels at byte " + std::to_string(i));
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return Status::Ok();
}

}  // namespace warden
