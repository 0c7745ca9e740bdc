// SyncReceiver: what the edge does with each message the hub sends over the sync WebSocket
// (docs/sync-protocol.md, sections 4 and 6), apart from the socket: deltas, revisions in parts and
// chunked snapshots applied through the SyncApplier and answered with ack or nack; welcome,
// heartbeat and error taken note of. The WsFollower owns the socket, the timers and the
// decision-log shipping, and does what each message's Actions say; keeping them apart lets tests
// and fuzzers drive the protocol message by message.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/delta.h"
#include "common/protocol/snapshot_format.h"
#include "edge/sync_applier.h"

namespace warden::edge {

class SyncReceiver {
 public:
  // `applier` must outlive the receiver. One receiver per session: a new connection starts over.
  explicit SyncReceiver(SyncApplier& applier) : applier_(applier) {}

  // The longest heartbeat interval a welcome may set (about 31 years).
  static constexpr int64_t kMaxHeartbeatMs = 1'000'000'000'000;

  struct Actions {
    std::vector<std::string> send;  // messages for the hub, in order (ack, nack)
    // Set when the message says why the session ends (an `error`, a nack that needs a resync, a
    // malformed message). The session goes on reading unless `end` is also set: after an
    // `error` the hub closes the socket itself.
    std::optional<Status> ended;
    bool end = false;
    bool key_refused = false;  // the hub revoked the edge's key
    std::optional<std::chrono::milliseconds> heartbeat;  // the interval a welcome gives
    bool start_heartbeats = false;  // the session's first welcome: heartbeats and log shipping start
    std::optional<uint64_t> log_batch_acked;  // a decision_logs_ack, for this batch id
    struct LogBatchRefused {
      uint64_t batch = 0;
      std::string code, message;  // code: "too_large", "invalid", "forbidden" ("" from older hubs)
    };
    std::optional<LogBatchRefused> log_batch_refused;  // a decision_logs_refused
  };

  // Handles one message's text. `more_waiting` says that more of the hub's messages have already
  // arrived (the edge fell behind): a delta is then held back, up to kMaxBatchRevisions and
  // kMaxBatchBytes, and the deltas that came together are applied, written to the replica and
  // published as one step when the last of them is handed over (or any other message is), each
  // still acked. Without it, each delta is applied at once.
  Actions Handle(std::string_view text, bool more_waiting = false);
  // Applies the deltas Handle held back and answers them (a session whose socket failed while it
  // held some calls it, so what arrived whole is not lost).
  Actions Flush();

  // The most deltas held back for one step, and the most bytes of their messages.
  static constexpr size_t kMaxBatchRevisions = 64;
  static constexpr size_t kMaxBatchBytes = 8u << 20;

  // Since when the session holds a revision it could not apply (nothing after it is applied until
  // the session reconnects); nullopt when it does not.
  std::optional<std::chrono::steady_clock::time_point> halted_since() const {
    return halted_ ? std::optional(halted_at_) : std::nullopt;
  }

 private:
  void Dispatch(const nlohmann::json& message, Actions& actions);
  // Holds back a delta (`message`, parsed from `message_text`), or answers it at once when its
  // ops do not parse.
  void Hold(const nlohmann::json& message, std::string_view message_text, uint64_t revision, bool more_waiting,
            Actions& actions);
  // Adds `delta` to the held-back ones, and applies them unless more messages wait and the batch
  // has room.
  void HoldBack(DeltaRevision delta, bool more_waiting, Actions& actions);
  // Applies the held-back deltas as one step and answers them.
  void FlushInto(Actions& actions);
  // Adds one rev_part read on the fast path: its ops, and their text for the journal.
  void TakePart(uint64_t revision, std::vector<protocol::DeltaOp> ops, std::string_view ops_text, Actions& actions);
  // Acks an applied revision, or nacks it: a gap or a hash mismatch ends the session (to resync);
  // anything else halts it.
  void Answer(const Status& applied, uint64_t revision, Actions& actions);

  SyncApplier& applier_;
  bool heartbeats_started_ = false;
  // Deltas held back while more messages were waiting, and the size of their messages.
  std::vector<DeltaRevision> held_back_;
  size_t held_back_bytes_ = 0;
  // A revision streamed in parts, and its ops' text joined (the journal's record of it) while every
  // part came on the fast path.
  uint64_t parts_revision_ = 0;
  std::vector<protocol::DeltaOp> parts_ops_;
  std::string parts_text_;
  bool parts_text_whole_ = true;
  std::chrono::steady_clock::time_point parts_started_{};
  // A snapshot streamed in chunks, parsed and hashed chunk by chunk so its text is never held whole.
  bool in_snapshot_ = false;
  uint64_t snapshot_revision_ = 0;
  std::string snapshot_store_;
  std::unique_ptr<protocol::SnapshotParser> snapshot_parser_;
  protocol::Sha256Stream snapshot_hash_;
  std::chrono::steady_clock::time_point snapshot_started_{};
  size_t next_chunk_ = 0;
  bool halted_ = false;
  std::chrono::steady_clock::time_point halted_at_{};
};

}  // namespace warden::edge
