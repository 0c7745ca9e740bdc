// PullFollower: an edge following a control plane over plain HTTP, by polling its change log
// (`GET /v1/changes?after=N`). This is the pull path of the sync design; the WebSocket hub, the
// snapshot endpoint and long polling come with the sync issue and replace the polling here.
//
// Each revision is applied to a new in-memory snapshot (protocol::ApplyRevision, O(k log n)) and
// to the SQLite replica in one transaction, then published; checks never wait on it. A revision
// that cannot be applied leaves the edge serving the last good one, marked degraded, and is
// retried with backoff. A change of store_id (a different or restored store) starts over from
// an empty replica.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/snapshot/snapshot_holder.h"
#include "edge/replica.h"

namespace warden::edge {

struct FollowOptions {
  std::string control_plane_url;  // http://host:port
  std::string token;              // bearer token with read scope
  std::chrono::milliseconds poll_interval{200};
  size_t batch = 500;  // revisions per request
};

class PullFollower {
 public:
  // `replica` may be null (memory only). Both must outlive the follower.
  PullFollower(FollowOptions options, SnapshotHolder& holder, Replica* replica);
  ~PullFollower();  // stops

  void Start();
  void Stop();

  // {"state": "connecting|following|degraded|unreachable", "hub_revision", "lag", "last_sync",
  //  "error"} for /v1/status.
  nlohmann::json Status() const;

 private:
  void Run();
  // One round: fetch and apply what is new. Returns how many revisions were applied.
  Result<size_t> Poll();
  warden::Status StartOver(const std::string& store_id);
  void SetState(const char* state, const std::string& error);

  FollowOptions options_;
  SnapshotHolder& holder_;
  Replica* replica_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::string state_ = "connecting";
  std::string error_;
  uint64_t hub_revision_ = 0;
  std::chrono::system_clock::time_point last_sync_{};
  // The follower's own latest snapshot (only its thread touches it): what the holder serves, or
  // after a store change the revision-0 base being rebuilt on (never published at revision 0).
  std::shared_ptr<const Snapshot> latest_;
};

}  // namespace warden::edge
