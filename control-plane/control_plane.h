// ControlPlane: the store plus the current snapshot, and the one path every write takes.
//
// The current Snapshot (policies compiled, directory indexed) lives in memory, rebuilt from
// SQLite at start and advanced with protocol::ApplyRevision on every write. A write is:
//   1. under the writer mutex, plan the delta ops against the current snapshot;
//   2. apply them to make the next snapshot; this validates the whole result (policies compile,
//      relations and objects fit the manifest, a manifest change keeps every stored relation
//      valid); on error nothing is stored;
//   3. append them to SQLite as the next revision (one transaction with the change log);
//   4. publish the new snapshot.
// A large write does 2 and 3 at once, on two threads: its transaction is written while the
// snapshot is built and commits only if that validated (else it rolls back).
// So concurrent writers get distinct, gap-free revisions in commit order, and readers (lists,
// gets) never touch SQLite or wait on a write.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics/registry.h"
#include "common/protocol/delta.h"
#include "common/snapshot/snapshot.h"
#include "control-plane/snapshot_reclaimer.h"
#include "control-plane/store/store.h"

namespace warden::control_plane {

enum class Scope { kRead, kWrite };

struct Caller {
  std::string token_id;
  std::string name;
  Scope scope = Scope::kRead;
};

struct WriteOutcome {
  uint64_t revision = 0;
  bool changed = false;  // false when the ops were empty: no revision was taken
  size_t op_count = 0;
};

class ControlPlane {
 public:
  // Opens the store at `db_path` and loads its current snapshot. When `bootstrap_token` is not
  // empty and the store holds no admin token, it becomes the first write token (named
  // "bootstrap"); once any token exists it is ignored. Every write's policies must compile under
  // `expression_limits`.
  static Result<std::unique_ptr<ControlPlane>> Open(const std::string& db_path, const std::string& bootstrap_token,
                                                    metrics::Registry& registry,
                                                    const policy::ExpressionLimits& expression_limits = {});

  Store& store() { return *store_; }
  const std::string& store_id() const { return store_->store_id(); }
  // The latest committed snapshot; cheap, never blocks on a write in progress.
  std::shared_ptr<const Snapshot> current() const;

  // Plans ops against the current snapshot under the writer lock (so the plan cannot race another
  // write), validates and commits them. An error from `plan` or from validation is returned as is
  // and nothing is stored. Empty ops store nothing and report the current revision.
  using Planner = std::function<Result<std::vector<protocol::DeltaOp>>(const Snapshot& current)>;
  Result<WriteOutcome> Write(const Planner& plan, const std::string& author);
  Result<WriteOutcome> Write(std::vector<protocol::DeltaOp> ops, const std::string& author);

  // The caller a bearer token belongs to, comparing its SHA-256 with every stored token's in
  // constant time. Unauthenticated when none matches.
  Result<Caller> Authenticate(std::string_view token) const;
  // Re-reads the token hashes after tokens were created or deleted.
  Status ReloadTokens();

  // Edge keys (scope: sync and log upload). AuthenticateKey compares in constant time like
  // Authenticate; CreateKey and RevokeKey keep the in-memory list current, and RevokeKey tells
  // the key listener so live sessions end at once.
  struct EdgeKey {
    std::string id;
    std::string name;
  };
  Result<EdgeKey> AuthenticateKey(std::string_view key) const;
  // The name (the edge group) of the live key `id`; NotFound once it is revoked. From memory:
  // decision-log ingest asks it for every batch and must not wait on the store.
  Result<std::string> KeyName(std::string_view id) const;
  Result<Store::NewSecret> CreateKey(const std::string& name);
  Status RevokeKey(const std::string& id);

  // Listeners, set once before serving: `on_commit` runs after each committed write (on the
  // writer's thread, after the new snapshot is published); `on_key_revoked` after a revocation.
  void SetListeners(std::function<void(uint64_t revision)> on_commit,
                    std::function<void(const std::string& key_id)> on_key_revoked);

  // For /metrics.
  metrics::Counter& import_rows() { return *import_rows_; }

 private:
  ControlPlane() = default;

  std::unique_ptr<Store> store_;
  mutable std::mutex current_mutex_;
  std::shared_ptr<const Snapshot> current_;  // GUARDED_BY(current_mutex_)
  std::mutex write_mutex_;                   // held across plan, validate, commit, publish
  SnapshotReclaimer reclaimer_;              // frees what large writes replace
  mutable std::shared_mutex tokens_mutex_;
  std::vector<CredentialHash> tokens_;  // GUARDED_BY(tokens_mutex_)
  std::vector<CredentialHash> keys_;    // GUARDED_BY(tokens_mutex_)
  std::function<void(uint64_t)> on_commit_;
  std::function<void(const std::string&)> on_key_revoked_;
  Status ReloadKeys();
  metrics::Counter* writes_ = nullptr;
  metrics::Counter* write_refusals_ = nullptr;
  metrics::Counter* ops_written_ = nullptr;
  metrics::Counter* import_rows_ = nullptr;
};

}  // namespace warden::control_plane
