// FuzzInput: draws typed values from a fuzzer's bytes, deterministically, for targets that need
// more structure than one string. Runs out gracefully: past the end every draw returns zero/empty.
// (clang's FuzzedDataProvider does this too, but only clang ships it and the replay build is gcc.)
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace warden::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return size_ == 0; }
  size_t remaining() const { return size_; }

  uint8_t Byte() {
    if (size_ == 0) return 0;
    uint8_t b = *data_;
    ++data_;
    --size_;
    return b;
  }
  bool Bool() { return Byte() & 1; }
  // A value in [lo, hi], from as few bytes as the range needs.
  uint64_t Range(uint64_t lo, uint64_t hi) {
    uint64_t span = hi - lo, value = 0;
    for (uint64_t covered = 0; covered < span && size_ > 0; covered = (covered << 8) | 0xff) value = (value << 8) | Byte();
    return span == UINT64_MAX ? lo + value : lo + value % (span + 1);
  }
  int64_t Int64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | Byte();
    return static_cast<int64_t>(v);
  }
  double Double() {
    uint64_t bits = static_cast<uint64_t>(Int64());
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }
  // Up to `max` bytes, ended early by a backslash not followed by another (as FuzzedDataProvider
  // does), so a mutation can lengthen or shorten one string without shifting every later draw.
  std::string String(size_t max) {
    std::string out;
    while (out.size() < max && size_ > 0) {
      char c = static_cast<char>(Byte());
      if (c == '\\' && size_ > 0) {
        c = static_cast<char>(Byte());
        if (c != '\\') break;
      }
      out.push_back(c);
    }
    return out;
  }
  // Everything left.
  std::string_view Rest() {
    std::string_view rest(reinterpret_cast<const char*>(data_), size_);
    data_ += size_;
    size_ = 0;
    return rest;
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

// Splits `text` at the first occurrence of `separator`: {before, after} (after is empty when absent).
inline std::pair<std::string_view, std::string_view> SplitOnce(std::string_view text, std::string_view separator) {
  size_t at = text.find(separator);
  if (at == std::string_view::npos) return {text, {}};
  return {text.substr(0, at), text.substr(at + separator.size())};
}

}  // namespace warden::fuzz
