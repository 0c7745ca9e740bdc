// Replica: the edge's durable copy of its store, in SQLite, so it restarts and serves with the
// control plane down (design.md, "Edge sync and logs").
//
// Sync writes it: a whole snapshot with ReplaceWith(), in one transaction, then each revision's
// delta ops with ApplyRevisions(), appended to the delta journal beside the file
// (`<path>.deltas`, delta_journal.h) in one write. Every kFoldRevisions revisions or so (or
// kFoldBytes of journal) FoldIfDue() writes the journal's revisions into the tables in one
// transaction and empties it; Open() does the same with whatever an earlier run left there. So
// the tables always hold one whole revision, and the tables plus the journal the latest one.
// On start the edge loads it with Load() before anything else. A file that fails SQLite's
// quick_check is moved aside and replaced by an empty replica (the edge then needs a snapshot).
// Damage quick_check does not see (a byte flipped inside a row) is caught by the tables' content
// digest: the sum of a 64-bit hash of every row, kept up to date by each write and stored with
// the revision; Load() refuses content that does not add up to it, so the edge resyncs.
//
// Schema (version 1):
//   meta(key PRIMARY KEY, value)          store_id, revision (the tables'), content_digest (of the
//                                         tables' rows at that revision), instance_id, schema,
//                                         journal_epoch and journal_base (the epoch of the
//                                         journal's records and the tables' revision they follow;
//                                         new whenever the tables are written)
//   policies(path PRIMARY KEY, text, sha256)
//   manifest(singleton, format, name, text)
//   objects(type, id, display_name, properties JSON)          PRIMARY KEY (type, id)
//   relations(object_type, object_id, relation, subject_type, subject_id, subject_relation)  all six the key
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol/delta.h"
#include "common/snapshot/snapshot.h"
#include "common/store/sqlite.h"
#include "edge/delta_journal.h"

namespace warden::edge {

class Replica {
 public:
  // Opens or creates the replica at `path`. A file that is not a database or fails quick_check is
  // renamed to `<path>.corrupt` and a fresh replica created in its place (see discarded()).
  //
  // `full_sync`: fsync every commit and journal append (SQLite synchronous=FULL). By default
  // (NORMAL, in WAL mode; a plain write to the journal) a revision written survives a crash of the
  // process but a power loss may take the last few back; the files stay consistent either way and
  // the edge resyncs from the revision it holds, so the replica, a cache of the control plane's
  // store, does not pay an fsync per revision.
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
  // does not load (a policy or manifest that no longer compiles, or rows that do not match the
  // content digest): the caller should resync.
  Result<std::shared_ptr<const Snapshot>> Load(const policy::ExpressionLimits& expression_limits = {}) const;

  // Replaces the whole content with `snapshot`, in one transaction.
  Status ReplaceWith(const Snapshot& snapshot);

  // One revision for ApplyRevisions: its ops and, when one delta message carried them, that
  // message's text (journaled as it is; otherwise the ops are serialized for the journal).
  struct Revision {
    const std::vector<protocol::DeltaOp>* ops = nullptr;
    std::string_view message;
    // When set (to the same vector as `ops`), the replica keeps the ops by moving them out
    // rather than copying them: an import's 200,000 cost as much to copy as to journal.
    std::vector<protocol::DeltaOp>* take = nullptr;
  };
  // Makes consecutive revisions `first`, `first`+1, ... durable (revisions[i] is first+i) with
  // one append to the journal: all or nothing, and the replica then holds the last of them.
  // FailedPrecondition unless `first` is exactly revision() + 1 (a gap, or a revision already
  // held); Unavailable when the journal cannot be written.
  Status ApplyRevisions(uint64_t first, std::span<const Revision> revisions);
  // ApplyRevisions for one revision.
  Status ApplyRevision(uint64_t revision, const std::vector<protocol::DeltaOp>& ops);

  // Writes the journal's revisions into the tables once it holds about kFoldRevisions of them
  // (a number drawn anew each time between half and one and a half times that, so that edges
  // following one control plane do not all fold at the same revision), or kFoldBytes once no
  // revision has come for kFoldQuiet; the sync followers call it after acknowledging, when no
  // message waits, so neither a check nor an ack waits on it. A failure is logged and retried
  // at the next call (the journal still holds every revision).
  void FoldIfDue();
  // Whether FoldIfDue() would fold now.
  bool FoldDue() const;
  static constexpr size_t kFoldRevisions = 256;
  static constexpr uint64_t kFoldBytes = 8u << 20;
  // A journal past kFoldBytes from a few large revisions (an import) waits this long: writing
  // 200,000 rows costs the edge about a second of CPU, which would otherwise fall while the
  // revision is still on its way to the other edges on the machine, and ahead of the next.
  static constexpr std::chrono::milliseconds kFoldQuiet{2000};

 private:
  explicit Replica(sqlite::Database db) : db_(std::move(db)) {}
  Status Initialize(bool full_sync);
  Status PrepareStatements();
  // Takes in the journal's records of this epoch that follow the tables (an earlier run's), and
  // folds them.
  Status RecoverJournal(const std::string& path, bool full_sync);
  // Within the caller's transaction: a new epoch for the journal, whose records will follow
  // tables at revision `base`.
  Result<uint64_t> RestartJournal(uint64_t base);
  // Writes the unfolded revisions into the tables in one transaction, then empties the journal.
  Status Fold();
  Status SetMeta(const std::string& key, const std::string& value);
  // Writes one op within the caller's transaction, keeping staged_digest_ the digest of the
  // tables as written.
  Status WriteOp(const protocol::DeltaOp& op);
  // Takes the stored row an op is about to replace or delete out of staged_digest_: 'o' the object
  // (`key`, `second_key`), 'p' the policy at `key`, 'm' the manifest. No row, no change.
  Status UnhashRow(char table, std::string_view key, std::string_view second_key);
  // The digest of every row in the tables, read whole.
  Result<uint64_t> TablesDigest() const;

  // A journaled revision the tables do not hold yet.
  struct Unfolded {
    uint64_t revision = 0;
    std::vector<protocol::DeltaOp> ops;
  };

  mutable sqlite::Database db_;
  // The statements every revision runs, prepared once (declared after db_: finalized before it
  // closes). Looking them up in the database's cache hashed their SQL text on every call.
  std::optional<sqlite::Statement> set_relation_, delete_relation_, set_meta_;
  bool discarded_ = false;
  std::string instance_id_;
  std::string store_id_;
  uint64_t revision_ = 0;         // the latest held: the tables' plus the journal's
  uint64_t tables_revision_ = 0;  // meta.revision
  uint64_t journal_epoch_ = 0;
  uint64_t journal_base_ = 0;     // the tables' revision when this epoch began
  // The sum (mod 2^64) of a hash of every row in the tables, kept in meta.content_digest with
  // meta.revision and checked by Load(). staged_digest_ follows a transaction being written.
  uint64_t digest_ = 0;
  uint64_t staged_digest_ = 0;
  std::unique_ptr<DeltaJournal> journal_;
  std::vector<Unfolded> unfolded_;  // the journal's revisions, oldest first
  size_t fold_at_ = kFoldRevisions;  // how many unfolded revisions make FoldIfDue() fold
  std::chrono::steady_clock::time_point last_append_{};
};

// A random (version 4) UUID.
std::string NewUuid();

}  // namespace warden::edge
