// SyncApplier: how a following edge takes in what the control plane sends, whichever transport
// carried it (the WebSocket follower or the pull follower), and what /v1/status says of it.
//
// A delta is applied to a new in-memory snapshot (protocol::ApplyRevision, O(k log n)) and to the
// replica (one append to its delta journal), then published: checks switch at once and never
// wait. A snapshot is hash-checked, built, published, then written to the replica in one
// transaction. Whatever fails leaves the edge serving the last good revision whole.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/metrics/registry.h"
#include "common/protocol/delta.h"
#include "common/snapshot/snapshot_holder.h"
#include "edge/replica.h"

namespace warden::edge {

// One revision's ops, as a delta (or a revision sent in parts) carried them, and the delta
// message's text when there was one (the replica journals it as it is).
struct DeltaRevision {
  uint64_t revision = 0;
  std::vector<protocol::DeltaOp> ops;
  std::string message;
};

class SyncApplier {
 public:
  // `replica` may be null (memory only). All must outlive the applier.
  // Snapshots from the control plane are compiled under `expression_limits`; deltas inherit them
  // from the snapshot they apply to.
  SyncApplier(SnapshotHolder& holder, Replica* replica, metrics::Registry& registry,
              const policy::ExpressionLimits& expression_limits = {});
  const policy::ExpressionLimits& expression_limits() const { return expression_limits_; }

  // The revision and store held (0 and "" before anything was applied).
  uint64_t revision() const;
  std::string store_id() const;
  // The UUID this edge says hello with (the replica's, or one made for this process).
  const std::string& instance_id() const { return replica_ ? replica_->instance_id() : instance_id_; }
  // REQUIRES: before any follower starts.
  void SetInstanceId(const std::string& instance_id) { instance_id_ = instance_id; }

  // Applies revision `revision`. FailedPrecondition (code "gap") unless the edge holds exactly
  // revision-1 of the same store; a revision already held is OK and changes nothing;
  // InvalidArgument ("cannot_apply") when the ops do not fit; Internal ("storage") when the
  // replica cannot be written.
  Status ApplyDelta(uint64_t revision, const std::vector<protocol::DeltaOp>& ops);

  // Applies deltas that arrived together, in order, as one step: each is applied in memory as
  // ApplyDelta would apply it (one already held is skipped), then all that applied are written
  // to the replica in one append and published once. `held` counts the deltas, from the
  // first, that the edge now holds; when that is not all of them, `status` is why the next one
  // was not applied (as ApplyDelta would answer it) and nothing after it was tried. A replica
  // that cannot be written holds none of the batch's new revisions.
  struct Applied {
    size_t held = 0;
    Status status;
  };
  // The ops of the revisions applied are moved from (the replica keeps them until it folds).
  Applied ApplyDeltas(std::span<DeltaRevision> deltas);
  // Applies a whole snapshot body (docs/sync-protocol.md, section 2): checks the hash
  // (InvalidArgument starting "hash_mismatch" when `sha256` does not match `body`), builds it,
  // publishes it, then replaces the replica's content; OK only once that is durable.
  // `body` is taken (and released once parsed, before the replica is written, to bound memory).
  // `computed_sha256`, when given, is the body's hash already computed as it arrived.
  Status ApplySnapshot(std::string body, std::string_view sha256, uint64_t revision, const std::string& store_id,
                       std::string_view computed_sha256 = {});

  // The second half of ApplySnapshot, for a snapshot parsed as it arrived (its hash checked by
  // the caller): publishes it, then replaces the replica's content.
  Status InstallSnapshot(Result<std::shared_ptr<const Snapshot>> parsed, uint64_t revision,
                         std::chrono::steady_clock::time_point started);

  // Writes the replica's delta journal into its tables when that is due (Replica::FoldIfDue). The
  // followers call it once the revisions it holds are acknowledged and nothing else waits.
  void FoldReplicaIfDue();
  bool ReplicaFoldDue() const;

  // The nack code for a Status returned above.
  static std::string NackCode(const Status& status);

  // Status reporting, for /v1/status and /metrics.
  void SetMode(const std::string& mode);
  void SetState(const std::string& state, const std::string& error);
  void SetHubRevision(uint64_t revision);
  // The hub holds at least `revision` (it began sending it): lag counts it while it is in flight.
  void SetHubRevisionAtLeast(uint64_t revision);
  nlohmann::json StatusJson() const;

 private:
  SnapshotHolder& holder_;
  Replica* replica_;
  policy::ExpressionLimits expression_limits_;
  std::string instance_id_;
  // The latest applied snapshot (may differ from what the holder serves only at revision 0).
  std::shared_ptr<const Snapshot> latest_;  // GUARDED_BY(mutex_)
  mutable std::mutex mutex_;
  std::string mode_, state_ = "connecting", error_;
  uint64_t hub_revision_ = 0;
  std::chrono::system_clock::time_point last_sync_{};
  metrics::Counter* applied_ = nullptr;
  metrics::Counter* snapshots_ = nullptr;
  metrics::Counter* refused_ = nullptr;
};

}  // namespace warden::edge
