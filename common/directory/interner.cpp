#include "common/directory/interner.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace warden::directory {

Interner::Interner() : table_(1024, Slot{0, 0}), chunks_(new std::atomic<std::string_view*>[kMaxChunks]) {
  for (uint32_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
  // Id 0: the empty string, stored without a table slot.
  std::string_view* slots = new std::string_view[kChunkSize];
  chunks_[0].store(slots, std::memory_order_release);
  count_.store(1, std::memory_order_release);
}

Interner::~Interner() {
  for (uint32_t i = 0; i < kMaxChunks; ++i) delete[] chunks_[i].load(std::memory_order_relaxed);
}

Interner::Slot& Interner::Probe(std::string_view s, uint64_t hash) const {
  size_t mask = table_.size() - 1;
  size_t i = static_cast<size_t>(hash) & mask;
  for (;;) {
    Slot& slot = table_[i];
    if (slot.id == 0 || (slot.hash == hash && Str(slot.id) == s)) return slot;
    i = (i + 1) & mask;
  }
}

void Interner::Grow() {
  std::vector<Slot> old = std::move(table_);
  table_.assign(old.size() * 2, Slot{0, 0});
  size_t mask = table_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.id == 0) continue;
    size_t i = static_cast<size_t>(slot.hash) & mask;
    while (table_[i].id != 0) i = (i + 1) & mask;
    table_[i] = slot;
  }
}

uint32_t Interner::Intern(std::string_view s, uint64_t hash) {
  if (s.empty()) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  Slot& found = Probe(s, hash);
  if (found.id != 0) return found.id;
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
  std::memcpy(bytes, s.data(), s.size());
  arena_next_ += s.size();
  arena_left_ -= s.size();
  uint32_t chunk = id >> kChunkBits;
  std::string_view* slots = chunks_[chunk].load(std::memory_order_relaxed);
  if (slots == nullptr) {
    slots = new std::string_view[kChunkSize];
    chunks_[chunk].store(slots, std::memory_order_release);
  }
  slots[id & (kChunkSize - 1)] = std::string_view(bytes, s.size());
  count_.store(id + 1, std::memory_order_release);
  found = Slot{hash, id};
  if ((id + 1) * 2 > table_.size()) Grow();
  return id;
}

std::optional<uint32_t> Interner::FindLocked(std::string_view s) const {
  if (s.empty()) return 0u;
  std::lock_guard<std::mutex> lock(mu_);
  const Slot& slot = Probe(s, Hash(s));
  if (slot.id == 0) return std::nullopt;
  return slot.id;
}

}  // namespace warden::directory
