// Replica: the edge's durable copy of its store, in SQLite, so it restarts and serves with the
// control plane down (design.md, "Edge sync and logs").
//
// Sync writes it: a whole snapshot with ReplaceWith(), then each revision's delta ops with
// ApplyRevision() (or several consecutive revisions with ApplyRevisions()), each in one
// transaction, so the file always holds exactly one whole revision.
// On start the edge loads it with Load() before anything else. A file that fails SQLite's
// quick_check is moved aside and replaced by an empty replica (the edge then needs a snapshot).
//
// Schema (version 1):
//   meta(key PRIMARY KEY, value)          store_id, revision, instance_id, schema
//   policies(path PRIMARY KEY, text, sha256)
//   manifest(singleton, format, name, text)
//   objects(type, id, display_name, properties JSON)          PRIMARY KEY (type, id)
//   relations(object_type, object_id, relation, subject_type, subject_id, subject_relation)  all six the key
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/protocol/delta.h"
#include "common/snapshot/snapshot.h"
#include "common/store/sqlite.h"

namespace warden::edge {

class Replica {
 public:
  // Opens or creates the replica at `path`. A file that is not a database or fails quick_check is
  // renamed to `<path>.corrupt` and a fresh replica created in its place (see discarded()).
  //
  // `full_sync`: fsync every commit (SQLite synchronous=FULL). By default (NORMAL, in WAL mode) a
  // committed revision survives a crash of the process but a power loss may take the last few
  // back; the file stays consistent either way and the edge resyncs from the revision it holds,
  // so the replica, a cache of the control plane's store, does not pay an fsync per revision.
  static Result<std::unique_ptr<Replica>> Open(const std::string& path, bool full_sync = false);
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // Whether Open() found a damaged file and set it aside.
  bool discarded() const { return discarded_; }
  // This edge's instance UUID, made when the replica was created and kept for its life, unless
  // the decision-log spool (which owns the identity its sequence numbers belong to) says otherwise.
  const std::string& instance_id() const { return instance_id_; }
  Status SetInstanceId(const std::string& instance_id);
  // The revision and store held (0 and "" when the replica has never been written).
  uint64_t revision() const { return revision_; }
  const std::string& store_id() const { return store_id_; }

  // The snapshot the replica holds, or nullptr when it holds none. An error means the content
  // does not load (a policy or manifest that no longer compiles): the caller should resync.
  Result<std::shared_ptr<const Snapshot>> Load(const policy::ExpressionLimits& expression_limits = {}) const;

  // Replaces the whole content with `snapshot`, in one transaction.
  Status ReplaceWith(const Snapshot& snapshot);

  // Applies one revision's ops in one transaction. FailedPrecondition unless `revision` is
  // exactly revision() + 1 (a gap, or a revision already held).
  Status ApplyRevision(uint64_t revision, const std::vector<protocol::DeltaOp>& ops);
  // Applies consecutive revisions `first`, `first`+1, ... (ops[i] is revision first+i's) in one
  // transaction, as a following edge does with revisions that arrived together: all or nothing,
  // and the file then holds the last of them. FailedPrecondition unless `first` is exactly
  // revision() + 1.
  Status ApplyRevisions(uint64_t first, std::span<const std::vector<protocol::DeltaOp>* const> ops);

 private:
  explicit Replica(sqlite::Database db) : db_(std::move(db)) {}
  Status Initialize(bool full_sync);
  Status PrepareStatements();
  Status SetMeta(const std::string& key, const std::string& value);
  Status WriteOp(const protocol::DeltaOp& op);

  mutable sqlite::Database db_;
  // The statements every revision runs, prepared once (declared after db_: finalized before it
  // closes). Looking them up in the database's cache hashed their SQL text on every call.
  std::optional<sqlite::Statement> set_relation_, delete_relation_, set_meta_;
  bool discarded_ = false;
  std::string instance_id_;
  std::string store_id_;
  uint64_t revision_ = 0;
};

// A random (version 4) UUID.
std::string NewUuid();

}  // namespace warden::edge
