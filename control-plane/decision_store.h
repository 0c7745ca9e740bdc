// DecisionStore: the control plane's decision logs, in an SQLite file of their own so ingest never
// holds the configuration store's lock (design.md, "Control plane").
//
// Each entry is keyed by (instance UUID, sequence): a batch an edge resends because it never saw
// the acknowledgement is stored once (at-least-once delivery, exactly-once storage). A batch is
// acknowledged only once its transaction is durable: committed, and the WAL holding the commit
// fsynced. Batches arriving together commit together (group commit), and the fsync happens after
// the connection is released, so the next group's inserts overlap this group's wait for the disk.
//
// Schema: decisions(id INTEGER PRIMARY KEY, instance_id, sequence, time_ns, ingested_ns, key_id,
//                   api, subject "type:id", action, resource "type:id", allowed, body JSON,
//                   UNIQUE(instance_id, sequence)), indexed by time, and by subject and by
//                   resource with time (the unique key serves queries by edge); each index
//                   costs every ingest, so there are no more; drops(instance_id, reported_ns, count,
//                   damaged: the part of count the edge lost to a damaged spool);
//         instance_groups(instance_id PRIMARY KEY, key_group, bound_ns): the edge group (the name of
//                   the key) each instance first made contact under. Entries for an instance come
//                   only from keys of its group, so another group's key can neither store entries
//                   under a victim's instance nor, by taking its next sequences first, have the
//                   victim's own entries ignored as duplicates.
// PRAGMA user_version numbers the migrations applied (see kMigrations in the .cpp).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/store/sqlite.h"
#include "control-plane/store/wal_checkpointer.h"
#include "common/util/status.h"

namespace warden::control_plane {

struct DecisionQuery {
  int64_t from_ns = 0;
  int64_t to_ns = std::numeric_limits<int64_t>::max();
  std::string edge;      // instance UUID
  std::string subject;   // "type:id"
  std::string resource;  // "type:id"
  std::string action;
  std::optional<bool> allowed;
  size_t limit = 100;
  bool ascending = false;  // false: newest decision first; true: in ingest order (for --follow)
  std::string cursor;      // from the previous page's next_cursor
};

// One entry as the store keeps it, validated: views of the batch it came from.
struct DecisionRow {
  uint64_t sequence = 0;
  int64_t time_ns = 0;
  std::string_view api, subject_type, subject_id, action, resource_type, resource_id;
  bool allowed = false;
  std::string_view body;  // the entry's JSON
};

struct DecisionPage {
  std::vector<nlohmann::json> entries;  // each the stored entry plus "id" and "ingested"
  std::string next_cursor;              // "" when there is no more
};

class DecisionStore {
 public:
  // The group of a key by its id (nullopt for a key no longer known): for binding the instances
  // stored before bindings existed to the group of the key that first sent each.
  using KeyGroupOf = std::function<std::optional<std::string>(const std::string& key_id)>;
  // Opens or creates the store and migrates it. FailedPrecondition for a file made by a newer
  // binary.
  static Result<std::unique_ptr<DecisionStore>> Open(const std::string& path, const KeyGroupOf& key_group_of = {});
  ~DecisionStore();

  struct IngestResult {
    size_t stored = 0;
    size_t duplicates = 0;
    uint64_t through = 0;  // the highest sequence in the batch
  };
  // Who sent a batch, and the drops it reports.
  struct BatchSource {
    std::string_view instance_id;
    std::string_view key_id;
    std::string_view key_group;  // the key's name: the edge group the instance is bound to
    uint64_t dropped = 0;
    uint64_t damaged = 0;        // the part of `dropped` a damaged spool lost
  };
  // Validates and stores one batch in one transaction. InvalidArgument naming the entry
  // ("entries[3].time: ...") stores nothing.
  Result<IngestResult> Ingest(const BatchSource& source, const nlohmann::json& entries);
  // Stores rows already validated (ReadDecisionBatch's). Batches that arrive while another
  // commits are stored together in the next transaction (group commit: one fsync and one write of
  // each page they share); each returns once its transaction committed, or with its error.
  // An instance not seen before is bound to the batch's key group; PermissionDenied (nothing
  // stored) when it is bound to another.
  Result<IngestResult> IngestRows(const BatchSource& source, const std::vector<DecisionRow>& rows);
  // Binds `instance_id` to `key_group` unless it is bound already (an edge's sync hello: its
  // first contact). PermissionDenied when it is bound to another group.
  Status BindInstance(std::string_view instance_id, std::string_view key_group);

  // Per instance, the drops its edge reported and the part of them spool damage caused, into
  // `out` (an out-parameter: GCC 12 at -O3 misreads a Result holding the map as freeing a
  // non-heap pointer).
  struct Drops {
    uint64_t dropped = 0;
    uint64_t damaged = 0;
  };
  Status DropsByInstance(std::unordered_map<std::string, Drops>& out);

  // InvalidArgument for a cursor this store did not make.
  Result<DecisionPage> Query(const DecisionQuery& query);

  // Deletes entries older than `max_age_ns` (by decision time), then the oldest beyond
  // `max_rows`. Returns how many were deleted.
  Result<uint64_t> EnforceRetention(int64_t max_age_ns, uint64_t max_rows);

  uint64_t count() const;
  uint64_t dropped_reported() const;

 private:
  explicit DecisionStore(sqlite::Database db) : db_(std::move(db)) {}

  Status Migrate(const KeyGroupOf& key_group_of);
  // The group `instance_id` is bound to, binding it to `key_group` when it is bound to none (the
  // row inserted in the caller's transaction; `bound` lists what was added to groups_ for the
  // caller to take back should it roll back). REQUIRES: mutex_ held.
  Result<std::string> GroupOf(std::string_view instance_id, std::string_view key_group,
                              std::vector<std::string>& bound);

  // One batch waiting for a group commit, on its caller's stack.
  struct PendingBatch {
    BatchSource source;
    const std::vector<DecisionRow>* rows;
    Result<IngestResult> result = Status::Internal("not committed");
    bool taken = false;  // in a group being stored
    bool done = false;   // stored and synced, or failed: `result` says
  };
  // Stores `group` in one transaction (committed, not yet synced); sets each batch's result.
  Status InsertGroup(const std::vector<PendingBatch*>& group);
  // Makes every transaction committed so far durable: fdatasync of the WAL file.
  Status SyncLog();

  std::mutex group_mutex_;
  std::condition_variable group_done_;
  std::vector<PendingBatch*> waiting_;  // GUARDED_BY(group_mutex_)
  bool committing_ = false;             // GUARDED_BY(group_mutex_): a leader is storing a group

  mutable std::mutex mutex_;  // the connection
  mutable sqlite::Database db_;
  // instance_groups, in memory: each ingest asks it. GUARDED_BY(mutex_)
  std::unordered_map<std::string, std::string> groups_;
  // Checkpoints on their own thread, so an ingest never waits for one (declared after db_: it
  // must go first).
  std::unique_ptr<WalCheckpointer> checkpointer_;
  // The WAL file, opened by us as well: commits run with synchronous=NORMAL (no fsync under the
  // connection's lock) and SyncLog fsyncs it before any batch is acknowledged. SQLite keeps the
  // file (the same inode) while it has the database open.
  int log_fd_ = -1;
  // Written under mutex_; read without it (metrics must not wait for an ingest).
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> dropped_reported_{0};
};

// "2026-11-29T15:20:43.123456789Z" (fraction optional, Z or ±hh:mm) as unix nanoseconds.
Result<int64_t> ParseRfc3339Nanos(std::string_view text);

}  // namespace warden::control_plane
