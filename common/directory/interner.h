// Interner: maps strings (type names, relation names, object ids) to dense integer ids.
//
// The directory index stores integers, not strings, so a check compares and hashes machine
// words. One Interner is shared by every snapshot of a lineage (a snapshot and the revisions
// applied on top of it), so an id means the same string in all of them and cursors stay valid
// across revisions. It only grows: a string stays interned after the last relation naming it
// is deleted (memory bounded by the distinct strings ever written).
//
// Id 0 is always the empty string.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <functional>
#include <vector>

namespace warden::directory {

class Interner {
 public:
  Interner();
  ~Interner();
  Interner(const Interner&) = delete;
  Interner& operator=(const Interner&) = delete;

  // The hash every lookup uses; callers that also need it (the snapshot's name index) compute it
  // once and pass it in.
  static uint64_t Hash(std::string_view s) { return std::hash<std::string_view>{}(s); }

  // The id of `s`, adding it if new. Thread-safe; serialised by an internal mutex (writers only).
  uint32_t Intern(std::string_view s) { return Intern(s, Hash(s)); }
  // REQUIRES: hash == Hash(s).
  uint32_t Intern(std::string_view s, uint64_t hash);

  // The id of `s` if it was ever interned. Takes the internal mutex; the read path of a snapshot
  // uses its own lock-free name index instead.
  std::optional<uint32_t> FindLocked(std::string_view s) const;

  // The string for `id`. Lock-free. REQUIRES: `id` was returned by Intern() and reached the
  // caller through a synchronising handoff (e.g. inside a published snapshot).
  std::string_view Str(uint32_t id) const {
    return chunks_[id >> kChunkBits].load(std::memory_order_acquire)[id & (kChunkSize - 1)];
  }

  // How many ids exist (including the empty string).
  uint32_t size() const { return count_.load(std::memory_order_acquire); }

 private:
  static constexpr uint32_t kChunkBits = 16;
  static constexpr uint32_t kChunkSize = 1u << kChunkBits;
  static constexpr uint32_t kMaxChunks = 1u << 14;

  // Open addressing over (hash, id); a slot with id 0 is empty (id 0, the empty string, is
  // found without the table).
  struct Slot {
    uint64_t hash;
    uint32_t id;
  };
  // The slot holding `s`, or the empty slot where it would go. REQUIRES: mu_ held.
  Slot& Probe(std::string_view s, uint64_t hash) const;
  void Grow();

  mutable std::mutex mu_;
  mutable std::vector<Slot> table_;                        // guarded by mu_; power-of-two size
  std::vector<std::unique_ptr<char[]>> arenas_;           // guarded by mu_; stable string bytes
  size_t arena_left_ = 0;                                  // guarded by mu_
  char* arena_next_ = nullptr;                             // guarded by mu_
  std::unique_ptr<std::atomic<std::string_view*>[]> chunks_;
  std::atomic<uint32_t> count_{0};
};

}  // namespace warden::directory
