// SyncHub: the control plane's side of the sync protocol (docs/sync-protocol.md, section 5).
//
// Each edge holds one WebSocket session. The server's threads only hand the hub what arrives
// (hello, ack, nack, heartbeat) and tell it when a socket drained or closed; one hub thread does
// the protocol for every session: it answers hello, streams each edge from the change log by
// cursor within a window of unacked revisions and bytes, streams a snapshot only as the socket
// drains, sends heartbeats and ends silent or revoked sessions. So the hub holds no per-edge
// queue beyond the window, and a slow edge slows only itself.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/http/websocket.h"
#include "common/metrics/registry.h"
#include "common/protocol/snapshot_format.h"
#include "control-plane/control_plane.h"
#include "control-plane/revision_messages.h"

namespace warden::control_plane {

struct HubOptions {
  std::chrono::milliseconds heartbeat{10'000};
  size_t window_revisions = 64;
  size_t window_bytes = 8u << 20;
};

// What the hub knows of one edge, live (GET /v1/edges merges it with the stored list).
struct LiveEdge {
  std::string instance_id, key_id, key_name, address, build, state, error, session_id;
  uint64_t revision = 0;  // acked
  int feature_level = 0;
  int64_t last_seen = 0;  // unix seconds
};

// A serialized snapshot cut into whole-line chunks of about protocol::kMaxMessagePayload.
struct ChunkedSnapshot {
  std::shared_ptr<const protocol::SerializedSnapshot> snapshot;
  std::vector<size_t> chunk_ends;  // end offset of each chunk in snapshot->body
};

class SyncHub {
 public:
  SyncHub(ControlPlane& cp, HubOptions options, metrics::Registry& registry);
  ~SyncHub();  // stops
  SyncHub(const SyncHub&) = delete;
  SyncHub& operator=(const SyncHub&) = delete;

  void Start();
  // Ends every session (close code 1001) and the hub thread.
  void Stop();

  // One turn of the hub thread's loop: handles what each session received, streams what it may
  // be sent, sends heartbeats once `next_heartbeat` has passed, and retires closed sessions.
  // Returns when the next heartbeat is due. The hub thread runs it after each wake-up; a test or
  // fuzzer that never calls Start() runs it itself, to drive the hub deterministically.
  std::chrono::steady_clock::time_point Turn(std::chrono::steady_clock::time_point next_heartbeat);
  // Answers every long poll now, and every later one at once: the first step of a shutdown, so
  // the HTTP server's graceful stop does not wait on them.
  void ReleaseLongPolls();

  // GET /v1/sync: 401 before any upgrade unless the bearer is a live edge key.
  http::UpgradeDecision Upgrade(http::Request& request);

  // ControlPlane listeners.
  void OnCommit(uint64_t revision);
  void OnKeyRevoked(const std::string& key_id);

  // The snapshot of the current revision, built once per revision and shared.
  std::shared_ptr<const ChunkedSnapshot> CurrentSnapshot();

  // Edges with a live session.
  std::vector<LiveEdge> LiveEdges() const;

  // Whether a long poll of GET /v1/changes?since=`after` answers now: a revision after `after`
  // committed, or long polls were released. Lock-free. A waiting long poll holds no thread (it
  // waits in the HTTP server, see http::Response::Later) and asks again each time the long-poll
  // waker runs.
  bool LongPollMayAnswer(uint64_t after) const;
  // Called after each commit and on ReleaseLongPolls(): the app wakes its servers' waiting
  // requests with it. Null for none; clear it before whatever it calls goes away.
  void SetLongPollWaker(std::function<void()> waker);

  const HubOptions& options() const { return options_; }

  // Where decision_logs messages go (set once before Start): stores a batch and answers the
  // acknowledgement's fields, or why it was refused.
  using DecisionSink = std::function<Result<nlohmann::json>(const std::string& key_id, const nlohmann::json& batch)>;
  void SetDecisionSink(DecisionSink sink) { decision_sink_ = std::move(sink); }
  // Binds an edge's instance to its key's group at its hello, its first contact (set once before
  // Start). A refusal (bound to another group) does not end the session: sync goes on, and that
  // instance's decision logs are refused.
  using InstanceBinder = std::function<Status(const std::string& instance_id, const std::string& key_group)>;
  void SetInstanceBinder(InstanceBinder binder) { instance_binder_ = std::move(binder); }

 private:
  class Session;
  void Run();
  void Wake();
  // `latest`: the control plane's revision when this turn began.
  void Pump(Session& session, uint64_t latest);
  void Handle(Session& session, const std::string& message);
  void Dispatch(Session& session, const nlohmann::json& message);
  // ack R: advances the session's acknowledged revision (ignored for a revision not sent).
  void HandleAck(Session& session, uint64_t revision);
  void HandleHello(Session& session, const nlohmann::json& hello);
  void StartSnapshot(Session& session);
  void SendSnapshotChunks(Session& session);
  void SendDeltas(Session& session, uint64_t latest);
  void Heartbeat(std::chrono::steady_clock::time_point now);
  void Fail(Session& session, const std::string& code, uint16_t close_code, const std::string& message);
  // Records the edges whose state changed since the last call.
  void PersistEdges();

  ControlPlane& cp_;
  HubOptions options_;
  DecisionSink decision_sink_;
  InstanceBinder instance_binder_;
  std::thread thread_;
  RevisionMessages recent_;  // the hub thread's own

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;
  bool stopping_ = false;
  std::vector<std::shared_ptr<Session>> sessions_;  // GUARDED_BY(mutex_)

  std::mutex snapshot_mutex_;  // held while building, so concurrent requests build once
  std::shared_ptr<const ChunkedSnapshot> snapshot_;

  std::atomic<uint64_t> latest_revision_{0};
  // The latest revision too large to go as one delta, and the last one announced (hub thread).
  std::atomic<uint64_t> large_revision_{0};
  uint64_t announced_ = 0;
  std::atomic<bool> long_polls_released_{false};  // set by ReleaseLongPolls()
  std::mutex long_poll_waker_mutex_;  // held while the waker runs, so clearing it waits it out
  std::function<void()> long_poll_waker_;  // GUARDED_BY(long_poll_waker_mutex_)

  metrics::Counter* snapshots_sent_ = nullptr;
  metrics::Counter* revisions_sent_ = nullptr;
  metrics::Counter* nacks_ = nullptr;
  metrics::Counter* sessions_refused_ = nullptr;
};

}  // namespace warden::control_plane
