// SnapshotReclaimer: frees replaced snapshots on its own thread, after the write that replaced
// them has answered.
//
// When a write publishes a new snapshot, the old one usually loses its last reference at once,
// and freeing the index nodes the new one no longer shares took about a millisecond per 1,000
// relations written with a million stored, on the write's thread before it could answer. Handed
// here, that work runs while the answer travels and the next request arrives.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/snapshot/snapshot.h"

namespace warden::control_plane {

class SnapshotReclaimer {
 public:
  SnapshotReclaimer();
  // Frees whatever is still queued, then stops the thread.
  ~SnapshotReclaimer();

  SnapshotReclaimer(const SnapshotReclaimer&) = delete;
  SnapshotReclaimer& operator=(const SnapshotReclaimer&) = delete;

  // Drops `snapshot` on the reclaimer's thread (freeing it if that was the last reference).
  void Retire(std::shared_ptr<const Snapshot> snapshot);

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<const Snapshot>> queue_;  // GUARDED_BY(mutex_)
  bool stopping_ = false;                               // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace warden::control_plane
