// BoundedQueue: a fixed-capacity multi-producer, multi-consumer queue without locks (Dmitry
// Vyukov's bounded MPMC design: one sequence number per slot, producers and consumers each claim
// a position with one compare-and-swap).
//
// TryPush never blocks and never allocates: when the queue is full it returns false and the
// caller counts a drop. This is what request threads use to hand work to a background thread
// without ever waiting on it.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <utility>

namespace warden {

template <typename T>
class BoundedQueue {
 public:
  // `capacity` is rounded up to a power of two (at least 2).
  explicit BoundedQueue(size_t capacity) {
    size_t size = 2;
    while (size < capacity) size <<= 1;
    mask_ = size - 1;
    slots_ = std::make_unique<Slot[]>(size);
    for (size_t i = 0; i < size; ++i) slots_[i].sequence.store(i, std::memory_order_relaxed);
  }
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  size_t capacity() const { return mask_ + 1; }

  // False when full (the value is left unmoved).
  bool TryPush(T& value) {
    size_t position = tail_.load(std::memory_order_relaxed);
    while (true) {
      Slot& slot = slots_[position & mask_];
      size_t sequence = slot.sequence.load(std::memory_order_acquire);
      auto difference = static_cast<std::ptrdiff_t>(sequence) - static_cast<std::ptrdiff_t>(position);
      if (difference == 0) {
        if (tail_.compare_exchange_weak(position, position + 1, std::memory_order_relaxed)) {
          // A large queue's next slots were last touched a whole lap ago and are out of cache:
          // ask for one a few pushes ahead now, so that push does not wait on the memory.
          __builtin_prefetch(&slots_[(position + kPrefetchAhead) & mask_], 1);
          slot.value = std::move(value);
          slot.sequence.store(position + 1, std::memory_order_release);
          return true;
        }
      } else if (difference < 0) {
        return false;  // full
      } else {
        position = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  // The oldest value, or nullopt when empty.
  std::optional<T> TryPop() {
    size_t position = head_.load(std::memory_order_relaxed);
    while (true) {
      Slot& slot = slots_[position & mask_];
      size_t sequence = slot.sequence.load(std::memory_order_acquire);
      auto difference = static_cast<std::ptrdiff_t>(sequence) - static_cast<std::ptrdiff_t>(position + 1);
      if (difference == 0) {
        if (head_.compare_exchange_weak(position, position + 1, std::memory_order_relaxed)) {
          std::optional<T> out(std::move(slot.value));
          slot.sequence.store(position + mask_ + 1, std::memory_order_release);
          return out;
        }
      } else if (difference < 0) {
        return std::nullopt;  // empty
      } else {
        position = head_.load(std::memory_order_relaxed);
      }
    }
  }

 private:
  static constexpr size_t kPrefetchAhead = 4;
  struct Slot {
    std::atomic<size_t> sequence{0};
    T value{};
  };
  std::unique_ptr<Slot[]> slots_;
  size_t mask_ = 0;
  alignas(64) std::atomic<size_t> head_{0};
  alignas(64) std::atomic<size_t> tail_{0};
};

}  // namespace warden
