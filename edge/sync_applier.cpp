#include "edge/sync_applier.h"

#include <algorithm>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "common/protocol/apply.h"
#include "common/protocol/snapshot_format.h"

namespace warden::edge {

namespace {

// Test hook (never set in production): a revision whose policies contain this text is refused as
// if this build lacked a feature they use, so the nack path can be exercised end to end.
// Read once: the environment does not change while the edge runs.
const std::string& RefusedPolicyMarker() {
  static const std::string marker = [] {
    const char* value = std::getenv("WARDEN_TEST_REFUSE_POLICY_MARKER");
    return std::string(value ? value : "");
  }();
  return marker;
}

// The policy.set op among `ops` whose text holds `marker`, or null.
const protocol::DeltaOp* MarkedPolicy(const std::vector<protocol::DeltaOp>& ops, const std::string& marker) {
  for (const auto& op : ops) {
    if (op.kind == protocol::DeltaOp::Kind::kPolicySet && op.policy.text.find(marker) != std::string::npos) return &op;
  }
  return nullptr;
}

}  // namespace

SyncApplier::SyncApplier(SnapshotHolder& holder, Replica* replica, metrics::Registry& registry,
                         const policy::ExpressionLimits& expression_limits)
    : holder_(holder), replica_(replica), expression_limits_(expression_limits) {
  instance_id_ = replica_ ? replica_->instance_id() : NewUuid();
  latest_ = holder_.Current();
  applied_ = &registry.AddCounter("warden_edge_sync_applied_revisions_total", "Revisions applied from the control plane");
  snapshots_ = &registry.AddCounter("warden_edge_sync_snapshots_total", "Snapshots applied from the control plane");
  refused_ = &registry.AddCounter("warden_edge_sync_refused_total", "Revisions or snapshots this edge could not apply");
  registry.AddCallbackGauge("warden_edge_sync_connected", "1 while following the control plane", {}, [this] {
    std::lock_guard lock(mutex_);
    return state_ == "following" ? 1.0 : 0.0;
  });
  registry.AddCallbackGauge("warden_edge_sync_degraded", "1 while a revision cannot be applied or the key is refused", {},
                            [this] {
                              std::lock_guard lock(mutex_);
                              return state_ == "degraded" ? 1.0 : 0.0;
                            });
  registry.AddCallbackGauge("warden_edge_sync_lag_revisions", "Revisions the control plane holds beyond this edge", {},
                            [this] {
                              std::lock_guard lock(mutex_);
                              uint64_t held = latest_ ? latest_->revision : 0;
                              return static_cast<double>(hub_revision_ > held ? hub_revision_ - held : 0);
                            });
  registry.AddCallbackGauge("warden_edge_sync_hub_revision", "The control plane's latest revision, as last heard", {},
                            [this] {
                              std::lock_guard lock(mutex_);
                              return static_cast<double>(hub_revision_);
                            });
}

uint64_t SyncApplier::revision() const {
  std::lock_guard lock(mutex_);
  return latest_ ? latest_->revision : 0;
}

std::string SyncApplier::store_id() const {
  std::lock_guard lock(mutex_);
  return latest_ ? latest_->store_id : "";
}

Status SyncApplier::ApplyDelta(uint64_t revision, const std::vector<protocol::DeltaOp>& ops) {
  DeltaRevision one{revision, ops, {}};
  return ApplyDeltas(std::span(&one, 1)).status;
}

SyncApplier::Applied SyncApplier::ApplyDeltas(std::span<DeltaRevision> deltas) {
  auto started = std::chrono::steady_clock::now();
  std::shared_ptr<const Snapshot> next;
  {
    std::lock_guard lock(mutex_);
    next = latest_;
  }
  const std::string& marker = RefusedPolicyMarker();
  Applied result;
  // The new revisions, for the replica, and where they start in `deltas`.
  std::vector<Replica::Revision> new_ops;
  size_t first_new = 0;
  for (; result.held < deltas.size(); ++result.held) {
    const DeltaRevision& delta = deltas[result.held];
    uint64_t held = next ? next->revision : 0;
    if (delta.revision <= held) continue;  // already held: idempotent
    if (!next || delta.revision != held + 1) {
      result.status = Status::FailedPrecondition("gap: holding revision " + std::to_string(held) + ", offered " +
                                                 std::to_string(delta.revision));
      break;
    }
    if (const protocol::DeltaOp* marked = marker.empty() ? nullptr : MarkedPolicy(delta.ops, marker)) {
      refused_->Increment();
      result.status = Status::InvalidArgument("cannot_apply: policy " + marked->policy.path +
                                              " uses a feature this edge lacks (test hook)");
      break;
    }
    auto applied = protocol::ApplyRevision(*next, delta.revision, delta.ops);
    if (!applied.ok()) {
      refused_->Increment();
      result.status = Status::InvalidArgument("cannot_apply: revision " + std::to_string(delta.revision) + ": " +
                                              applied.status().message());
      break;
    }
    if (new_ops.empty()) first_new = result.held;
    new_ops.push_back({&delta.ops, delta.message, &deltas[result.held].ops});
    next = std::move(*applied);
  }
  if (new_ops.empty()) return result;
  auto applied_at = std::chrono::steady_clock::now();
  size_t op_count = 0;
  for (const auto& revision : new_ops) op_count += revision.ops->size();  // before the replica takes them
  if (replica_) {
    Status written = replica_->ApplyRevisions(deltas[first_new].revision, new_ops);
    if (!written.ok()) return Applied{first_new, Status::Internal("storage: " + written.message())};
  }
  auto journaled_at = std::chrono::steady_clock::now();
  applied_->Increment(new_ops.size());
  {
    std::lock_guard lock(mutex_);
    latest_ = next;
    hub_revision_ = std::max(hub_revision_, next->revision);
    last_sync_ = std::chrono::system_clock::now();
  }
  // Published last, so whoever sees the revision also sees the status and counters that go with it.
  uint64_t published = next->revision;
  holder_.Publish(std::move(next));
  auto published_at = std::chrono::steady_clock::now();
  if (op_count >= 10'000) {
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    spdlog::info("sync: revision {} ({} ops) applied in memory in {:.0f} ms, journaled in {:.0f} ms, published in "
                 "{:.0f} ms",
                 published, op_count, ms(started, applied_at), ms(applied_at, journaled_at),
                 ms(journaled_at, published_at));
  }
  return result;
}

Status SyncApplier::ApplySnapshot(std::string body, std::string_view sha256, uint64_t revision,
                                  const std::string& store_id, std::string_view computed_sha256) {
  std::string actual = computed_sha256.empty() ? protocol::Sha256Hex(body) : std::string(computed_sha256);
  if (actual != sha256) {
    refused_->Increment();
    return Status::InvalidArgument("hash_mismatch: the snapshot of revision " + std::to_string(revision) +
                                   " hashes to " + actual + ", its trailer says " + std::string(sha256));
  }
  auto started = std::chrono::steady_clock::now();
  auto snapshot = protocol::ParseSnapshot(body, revision, store_id, expression_limits_);
  std::string().swap(body);  // the parsed snapshot holds everything; the text can go
  return InstallSnapshot(std::move(snapshot), revision, started);
}

Status SyncApplier::InstallSnapshot(Result<std::shared_ptr<const Snapshot>> snapshot, uint64_t revision,
                                    std::chrono::steady_clock::time_point started) {
  if (!snapshot.ok()) {
    refused_->Increment();
    return Status::InvalidArgument("cannot_apply: snapshot of revision " + std::to_string(revision) + ": " +
                                   snapshot.status().message());
  }
  // A snapshot is served as soon as it is built and then made durable (a restart before that
  // serves the previous replica and resyncs); it is acknowledged only once durable. Writing a
  // million rows is most of a bootstrap, and checks need not wait for it.
  snapshots_->Increment();
  {
    std::lock_guard lock(mutex_);
    latest_ = *snapshot;
    hub_revision_ = std::max(hub_revision_, revision);
  }
  holder_.Publish(*snapshot);  // after the counters and status, so whoever sees it sees them too
  if (replica_) {
    Status written = replica_->ReplaceWith(**snapshot);
    if (!written.ok()) return Status::Internal("storage: " + written.message());
  }
  spdlog::info("sync: applied the snapshot of revision {} ({} relations) in {:.0f} ms", revision,
               (*snapshot)->directory->relation_count(),
               std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
  std::lock_guard lock(mutex_);
  last_sync_ = std::chrono::system_clock::now();
  return Status::Ok();
}

std::string SyncApplier::NackCode(const Status& status) {
  const std::string& message = status.message();
  for (const char* code : {"gap", "hash_mismatch", "cannot_apply", "storage"}) {
    std::string prefix = std::string(code) + ":";
    if (message.rfind(prefix, 0) == 0) return code;
  }
  return "cannot_apply";
}

void SyncApplier::SetMode(const std::string& mode) {
  std::lock_guard lock(mutex_);
  mode_ = mode;
}

void SyncApplier::SetState(const std::string& state, const std::string& error) {
  std::lock_guard lock(mutex_);
  if (state_ != state || error_ != error) {
    if (error.empty()) {
      spdlog::info("sync ({}): {}", mode_, state);
    } else {
      spdlog::warn("sync ({}): {}: {}", mode_, state, error);
    }
  }
  state_ = state;
  error_ = error;
}

void SyncApplier::SetHubRevision(uint64_t revision) {
  std::lock_guard lock(mutex_);
  hub_revision_ = revision;
  last_sync_ = std::chrono::system_clock::now();
}

bool SyncApplier::ReplicaFoldDue() const { return replica_ && replica_->FoldDue(); }

void SyncApplier::FoldReplicaIfDue() {
  if (!replica_ || !replica_->FoldDue()) return;
  auto started = std::chrono::steady_clock::now();
  replica_->FoldIfDue();
  spdlog::debug("sync: replica fold took {:.0f} ms",
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
}

void SyncApplier::SetHubRevisionAtLeast(uint64_t revision) {
  std::lock_guard lock(mutex_);
  hub_revision_ = std::max(hub_revision_, revision);
}

nlohmann::json SyncApplier::StatusJson() const {
  std::lock_guard lock(mutex_);
  uint64_t held = latest_ ? latest_->revision : 0;
  nlohmann::json status = {{"mode", mode_},
                           {"state", state_},
                           {"revision", held},
                           {"hub_revision", hub_revision_},
                           {"lag", hub_revision_ > held ? hub_revision_ - held : 0},
                           {"degraded", state_ == "degraded"},
                           {"instance_id", instance_id()}};
  if (last_sync_.time_since_epoch().count() != 0) {
    status["last_sync_seconds_ago"] =
        std::chrono::duration<double>(std::chrono::system_clock::now() - last_sync_).count();
  }
  if (!error_.empty()) status["error"] = error_;
  return status;
}

}  // namespace warden::edge
