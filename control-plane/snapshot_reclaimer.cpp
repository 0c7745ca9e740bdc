#include "control-plane/snapshot_reclaimer.h"

namespace warden::control_plane {

SnapshotReclaimer::SnapshotReclaimer() : thread_([this] { Run(); }) {}

SnapshotReclaimer::~SnapshotReclaimer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void SnapshotReclaimer::Retire(std::shared_ptr<const Snapshot> snapshot) {
  if (!snapshot) return;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(snapshot));
  }
  wake_.notify_one();
}

void SnapshotReclaimer::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    std::vector<std::shared_ptr<const Snapshot>> batch = std::move(queue_);
    queue_.clear();
    bool stop = stopping_;
    lock.unlock();
    batch.clear();  // the frees happen here, outside the lock
    if (stop) return;
    lock.lock();
  }
}

}  // namespace warden::control_plane
