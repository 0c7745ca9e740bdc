#include "common/cel/activation.h"

namespace warden::cel {

Activation& Activation::Bind(std::string_view name, Value value) {
  for (size_t i = 0; i < inline_size_; ++i) {
    if (inline_[i].first == name) {
      inline_[i].second = std::move(value);
      return *this;
    }
  }
  for (auto& [n, v] : overflow_) {
    if (n == name) {
      v = std::move(value);
      return *this;
    }
  }
  if (inline_size_ < kInline) {
    inline_[inline_size_++] = {name, std::move(value)};
  } else {
    overflow_.emplace_back(name, std::move(value));
  }
  return *this;
}

const Value* Activation::Find(std::string_view name) const {
  for (size_t i = 0; i < inline_size_; ++i) {
    if (inline_[i].first == name) return &inline_[i].second;
  }
  for (const auto& [n, v] : overflow_) {
    if (n == name) return &v;
  }
  return nullptr;
}

Activation& Activation::MarkUnknown(std::string path, std::string canonical) {
  unknown_.push_back({std::move(path), std::move(canonical)});
  return *this;
}

}  // namespace warden::cel
