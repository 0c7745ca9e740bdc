// WsFollower: an edge following a control plane over the sync WebSocket (docs/sync-protocol.md,
// section 6): hello with its instance UUID, store and revision; each delta or snapshot applied
// through the SyncApplier and acked (or nacked); heartbeats both ways; reconnects with backoff and
// jitter. In `auto` mode it falls back to the pull follower after 3 failed upgrades that were not
// refusals of the key, and tries the socket again every 5 minutes.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/http/client.h"
#include "edge/decision_log.h"
#include "edge/pull_follower.h"
#include "edge/sync_applier.h"

namespace warden::edge {

struct WsFollowOptions {
  FollowOptions follow;        // control plane URL and key, as for pull
  bool fall_back_to_pull = true;  // --sync-mode auto
  std::string address;         // where this edge's API listens, sent in hello
  std::string build;           // this build's version
};

class WsFollower {
 public:
  // InvalidArgument for a URL that is not http[s]://HOST:PORT or an unreadable CA bundle.
  static Result<std::unique_ptr<WsFollower>> Create(WsFollowOptions options, SyncApplier& applier);
  ~WsFollower();  // stops

  // REQUIRES: before Start().
  void SetAddress(std::string address) { options_.address = std::move(address); }
  // The decision log whose batches ride the socket while it is up (null: none). Before Start().
  void SetDecisionLog(DecisionLog* log) { decision_log_ = log; }
  void Start();
  void Stop();

 private:
  WsFollower(WsFollowOptions options, SyncApplier& applier);
  void Run();
  // How a session ended, beside the Status saying why.
  struct SessionEnd {
    bool upgraded = false;          // the WebSocket handshake succeeded
    bool key_refused = false;       // the hub refused (or revoked) the key
    // Something on the way answered the upgrade with anything but 101 (or not within the
    // handshake timeout) on a connection it accepted: what auto mode counts towards pull. A
    // connection refused or reset (the control plane down or restarting) is not that.
    bool upgrade_refused = false;
  };
  // One connection, from connect to close. Returns why it ended.
  template <typename Stream>
  Status RunSession(SessionEnd& end);
  bool WaitFor(std::chrono::milliseconds duration);  // false when stopping

  WsFollowOptions options_;
  SyncApplier& applier_;
  DecisionLog* decision_log_ = nullptr;
  http::ParsedUrl url_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // for https:// control planes
  std::unique_ptr<PullFollower> pull_;  // for auto mode's fallback rounds
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::function<void()> cancel_;  // ends the current session's I/O; GUARDED_BY(mutex_)
};

}  // namespace warden::edge
