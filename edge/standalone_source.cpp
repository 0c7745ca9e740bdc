#include "edge/standalone_source.h"

#include <spdlog/spdlog.h>

#include "common/snapshot/folder_snapshot.h"

namespace warden::edge {

StandaloneSource::StandaloneSource(std::filesystem::path dir, SnapshotHolder& holder,
                                   std::chrono::milliseconds poll_interval,
                                   const policy::ExpressionLimits& expression_limits)
    : dir_(std::move(dir)), holder_(holder), poll_interval_(poll_interval), expression_limits_(expression_limits) {}

StandaloneSource::~StandaloneSource() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

Status StandaloneSource::LoadNow() {
  std::string fingerprint = FolderFingerprint(dir_);
  auto loaded = LoadSnapshotFolder(dir_, next_revision_, "standalone", expression_limits_);
  std::lock_guard lock(mutex_);
  fingerprint_ = fingerprint;
  if (!loaded.ok()) {
    last_error_ = loaded.status().message();
    return loaded.status();
  }
  last_error_.clear();
  ++next_revision_;
  const auto& snapshot = *loaded;
  spdlog::info("loaded {} at revision {}: {} policies, {} objects, {} relations", dir_.string(), snapshot->revision,
               snapshot->policies->policy_count(), snapshot->directory->object_count(),
               snapshot->directory->relation_count());
  holder_.Publish(std::move(*loaded));
  loads_.fetch_add(1);
  return Status::Ok();
}

void StandaloneSource::StartWatching() {
  watcher_ = std::thread([this] { Watch(); });
}

void StandaloneSource::Watch() {
  std::unique_lock lock(mutex_);
  while (!stop_signal_.wait_for(lock, poll_interval_, [this] { return stopping_; })) {
    std::string current = fingerprint_;
    lock.unlock();
    bool changed = FolderFingerprint(dir_) != current;
    if (changed) {
      // Editors write files in several steps; wait for the folder to settle before loading.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      Status loaded = LoadNow();
      if (!loaded.ok()) {
        spdlog::error("reload of {} failed; still serving revision {}:\n{}", dir_.string(), holder_.revision(),
                      loaded.message());
      }
    }
    lock.lock();
  }
}

std::string StandaloneSource::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

}  // namespace warden::edge
