// SnapshotHolder: the one place the current snapshot lives, read by every check.
//
// Publish() swaps in a new snapshot; Current() hands out a reference-counted pointer. The check
// path uses Acquire(), which keeps a per-thread copy and only touches shared state when the
// generation counter says a newer snapshot was published: steady-state reads take no lock and
// bump no shared reference count. A thread's cached copy keeps the old snapshot alive until
// that thread's next Acquire().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "common/snapshot/snapshot.h"

namespace warden {

class SnapshotHolder {
 public:
  SnapshotHolder() = default;
  SnapshotHolder(const SnapshotHolder&) = delete;
  SnapshotHolder& operator=(const SnapshotHolder&) = delete;

  // Makes `snapshot` current, wakes WaitForRevision() callers and calls the publish listener.
  void Publish(std::shared_ptr<const Snapshot> snapshot);

  // Called on the publishing thread after each Publish() (the edge wakes the requests waiting
  // for a revision with it); null for none. It runs under a lock of its own (not the one checks
  // take), so once this returns the previous listener is not running and never runs again: clear
  // it before whatever it calls goes away. The listener must not set the listener.
  void SetPublishListener(std::function<void()> listener);

  // The current snapshot, or null before the first Publish().
  std::shared_ptr<const Snapshot> Current() const;

  // The current snapshot for the calling thread (null before the first Publish()). The pointer
  // stays valid until this thread calls Acquire() again on any holder.
  const Snapshot* Acquire() const;

  // The revision of the current snapshot (0 before the first Publish()).
  uint64_t revision() const { return revision_.load(std::memory_order_acquire); }

  // Waits until a snapshot at `revision` or later is current, or `timeout` passes; returns
  // whether it is.
  bool WaitForRevision(uint64_t revision, std::chrono::milliseconds timeout) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable published_;
  std::shared_ptr<const Snapshot> current_;
  std::mutex listener_mutex_;  // held while the listener runs
  std::function<void()> publish_listener_;  // GUARDED_BY(listener_mutex_)
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> revision_{0};
};

}  // namespace warden
