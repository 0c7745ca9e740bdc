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
//                   costs every ingest, so there are no more; drops(instance_id, reported_ns, count).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
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
  static Result<std::unique_ptr<DecisionStore>> Open(const std::string& path);
  ~DecisionStore();

  struct IngestResult {
    size_t stored = 0;
    size_t duplicates = 0;
    uint64_t through = 0;  // the highest sequence in the batch
  };
  // Validates and stores one batch in one transaction. InvalidArgument naming the entry
  // ("entries[3].time: ...") stores nothing.
  Result<IngestResult> Ingest(const std::string& instance_id, const std::string& key_id,
                              const nlohmann::json& entries, uint64_t dropped);
  // Stores rows already validated (ReadDecisionBatch's). Batches that arrive while another
  // commits are stored together in the next transaction (group commit: one fsync and one write of
  // each page they share); each returns once its transaction committed, or with its error.
  Result<IngestResult> IngestRows(std::string_view instance_id, std::string_view key_id,
                                  const std::vector<DecisionRow>& rows, uint64_t dropped);

  // InvalidArgument for a cursor this store did not make.
  Result<DecisionPage> Query(const DecisionQuery& query);

  // Deletes entries older than `max_age_ns` (by decision time), then the oldest beyond
  // `max_rows`. Returns how many were deleted.
  Result<uint64_t> EnforceRetention(int64_t max_age_ns, uint64_t max_rows);

  uint64_t count() const;
  uint64_t dropped_reported() const;

 private:
  explicit DecisionStore(sqlite::Database db) : db_(std::move(db)) {}

  // One batch waiting for a group commit, on its caller's stack.
  struct PendingBatch {
    std::string_view instance_id, key_id;
    const std::vector<DecisionRow>* rows;
    uint64_t dropped;
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
