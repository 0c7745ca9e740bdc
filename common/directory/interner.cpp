#include "common/directory/interner.h"

#include <cstring>
#include <stdexcept>

namespace warden::directory {

Interner::Interner() : chunks_(new std::atomic<std::string_view*>[kMaxChunks]) {
  for (uint32_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
  Intern("");
}

Interner::~Interner() {
  for (uint32_t i = 0; i < kMaxChunks; ++i) delete[] chunks_[i].load(std::memory_order_relaxed);
}

uint32_t Interner::Intern(std::string_view s) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(s);
  if (it != map_.end()) return it->second;
  uint32_t id = count_.load(std::memory_order_relaxed);
  if (id >= kMaxChunks * kChunkSize) throw std::length_error("Interner: more than 2^30 distinct strings");
  // Strings live in large arenas so that the views handed out never move.
  if (s.size() > arena_left_) {
    size_t block = std::max<size_t>(s.size(), 1 << 16);
    arenas_.emplace_back(new char[block]);
    arena_next_ = arenas_.back().get();
    arena_left_ = block;
  }
  char* bytes = arena_next_;
  if (!s.empty()) std::memcpy(bytes, s.data(), s.size());
  arena_next_ += s.size();
  arena_left_ -= s.size();
  std::string_view stored(bytes, s.size());
  uint32_t chunk = id >> kChunkBits;
  std::string_view* slots = chunks_[chunk].load(std::memory_order_relaxed);
  if (slots == nullptr) {
    slots = new std::string_view[kChunkSize];
    chunks_[chunk].store(slots, std::memory_order_release);
  }
  slots[id & (kChunkSize - 1)] = stored;
  map_.emplace(stored, id);
  count_.store(id + 1, std::memory_order_release);
  return id;
}

std::optional<uint32_t> Interner::FindLocked(std::string_view s) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(s);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

}  // namespace warden::directory
