// StandaloneSource: standalone mode's feed of snapshots, from a folder on disk.
//
// Loads the folder at start; then a watcher thread polls its files' fingerprint and, on a change,
// loads it again beside the current snapshot. A load that fails (a policy that does not parse, a
// relation the manifest forbids) is logged and reported by status(); the last good snapshot keeps
// serving. Each successful load publishes the next revision.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "common/policy/policy_set.h"
#include "common/snapshot/snapshot_holder.h"

namespace warden::edge {

class StandaloneSource {
 public:
  StandaloneSource(std::filesystem::path dir, SnapshotHolder& holder, std::chrono::milliseconds poll_interval,
                   const policy::ExpressionLimits& expression_limits = {});
  ~StandaloneSource();  // stops the watcher

  // Loads the folder once and publishes it. The error names every problem found.
  Status LoadNow();
  // Starts watching for changes.
  void StartWatching();

  // The last load's error ("" after a good load), for /v1/status.
  std::string last_error() const;
  uint64_t loads() const { return loads_.load(); }

 private:
  void Watch();

  std::filesystem::path dir_;
  SnapshotHolder& holder_;
  std::chrono::milliseconds poll_interval_;
  policy::ExpressionLimits expression_limits_;
  std::string fingerprint_;
  uint64_t next_revision_ = 1;
  std::atomic<uint64_t> loads_{0};
  mutable std::mutex mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::string last_error_;
  std::thread watcher_;
};

}  // namespace warden::edge
