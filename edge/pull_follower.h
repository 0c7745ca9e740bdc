// PullFollower: an edge following a control plane over plain HTTP (docs/sync-protocol.md,
// section 7), for edges that cannot hold a WebSocket: it fetches GET /v1/snapshot when it holds
// nothing (or another store, or the hub is behind it, or its revision was compacted), then
// long-polls GET /v1/changes?since=R&wait=30s and applies each revision through the SyncApplier.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "common/http/client.h"
#include "common/util/status.h"
#include "edge/sync_applier.h"

namespace warden::edge {

struct FollowOptions {
  std::string control_plane_url;  // http://host:port or https://host:port
  http::ClientTlsFiles tls;       // https: verifies the control plane; mutual TLS: what the edge presents
  std::string key;                // the edge key (or an admin token with read scope)
  std::chrono::milliseconds poll_interval{200};  // pause between rounds when nothing is new
  std::chrono::milliseconds long_poll{30'000};   // how long the control plane may hold a poll
  size_t batch = 500;  // revisions per request
};

class PullFollower {
 public:
  PullFollower(FollowOptions options, SyncApplier& applier);
  ~PullFollower();  // stops

  // Runs rounds on a thread of its own until Stop().
  void Start();
  // Ends the thread promptly, a request in flight (a 30 s long poll) included.
  void Stop();
  // Ends a Round in flight on another thread, and refuses later ones (the WebSocket follower's
  // fallback rounds, when it stops).
  void Cancel() { canceller_.Cancel(); }

  // One round: a snapshot if needed, then one (long) poll of the change log and its revisions
  // applied. Returns how many revisions were applied. Used by Start()'s thread, and by the
  // WebSocket follower when it falls back to pull.
  Result<size_t> Round(std::chrono::milliseconds long_poll);

 private:
  void Run();
  Status FetchSnapshot();

  FollowOptions options_;
  SyncApplier& applier_;
  http::FetchCanceller canceller_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace warden::edge
