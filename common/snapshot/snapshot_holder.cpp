#include "common/snapshot/snapshot_holder.h"

namespace warden {
namespace {

struct ThreadCache {
  const SnapshotHolder* holder = nullptr;
  uint64_t generation = 0;
  std::shared_ptr<const Snapshot> snapshot;
};
thread_local ThreadCache thread_cache;

}  // namespace

void SnapshotHolder::Publish(std::shared_ptr<const Snapshot> snapshot) {
  {
    std::lock_guard lock(mutex_);
    revision_.store(snapshot ? snapshot->revision : 0, std::memory_order_release);
    current_ = std::move(snapshot);
    generation_.fetch_add(1, std::memory_order_release);
  }
  published_.notify_all();
  // Outside mutex_, which checks take in Acquire() after a publish: they never wait on the listener.
  std::lock_guard lock(listener_mutex_);
  if (publish_listener_) publish_listener_();
}

void SnapshotHolder::SetPublishListener(std::function<void()> listener) {
  std::lock_guard lock(listener_mutex_);
  publish_listener_ = std::move(listener);
}

std::shared_ptr<const Snapshot> SnapshotHolder::Current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

const Snapshot* SnapshotHolder::Acquire() const {
  uint64_t generation = generation_.load(std::memory_order_acquire);
  ThreadCache& cache = thread_cache;
  if (cache.holder != this || cache.generation != generation) {
    std::lock_guard lock(mutex_);
    cache.holder = this;
    cache.generation = generation_.load(std::memory_order_relaxed);
    cache.snapshot = current_;
  }
  return cache.snapshot.get();
}

bool SnapshotHolder::WaitForRevision(uint64_t revision, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return published_.wait_for(lock, timeout, [&] { return revision_.load(std::memory_order_relaxed) >= revision; });
}

}  // namespace warden
