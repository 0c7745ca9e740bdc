// DecisionStore: the control plane's decision logs, in an SQLite file of their own so ingest never
// holds the configuration store's lock (design.md, "Control plane").
//
// Each entry is keyed by (instance UUID, sequence): a batch an edge resends because it never saw
// the acknowledgement is stored once (at-least-once delivery, exactly-once storage). A batch is
// acknowledged only after its transaction committed with synchronous=FULL.
//
// Schema: decisions(id INTEGER PRIMARY KEY, instance_id, sequence, time_ns, ingested_ns, key_id,
//                   api, subject "type:id", action, resource "type:id", allowed, body JSON,
//                   UNIQUE(instance_id, sequence)), indexed by time, and by subject and by
//                   resource with time (the unique key serves queries by edge); each index
//                   costs every ingest, so there are no more; drops(instance_id, reported_ns, count).
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/store/sqlite.h"
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

struct DecisionPage {
  std::vector<nlohmann::json> entries;  // each the stored entry plus "id" and "ingested"
  std::string next_cursor;              // "" when there is no more
};

class DecisionStore {
 public:
  static Result<std::unique_ptr<DecisionStore>> Open(const std::string& path);

  struct IngestResult {
    size_t stored = 0;
    size_t duplicates = 0;
    uint64_t through = 0;  // the highest sequence in the batch
  };
  // Validates and stores one batch in one transaction. InvalidArgument naming the entry
  // ("entries[3].time: ...") stores nothing.
  Result<IngestResult> Ingest(const std::string& instance_id, const std::string& key_id,
                              const nlohmann::json& entries, uint64_t dropped);

  // InvalidArgument for a cursor this store did not make.
  Result<DecisionPage> Query(const DecisionQuery& query);

  // Deletes entries older than `max_age_ns` (by decision time), then the oldest beyond
  // `max_rows`. Returns how many were deleted.
  Result<uint64_t> EnforceRetention(int64_t max_age_ns, uint64_t max_rows);

  uint64_t count() const;
  uint64_t dropped_reported() const;

 private:
  explicit DecisionStore(sqlite::Database db) : db_(std::move(db)) {}

  mutable std::mutex mutex_;
  mutable sqlite::Database db_;
  uint64_t count_ = 0;             // GUARDED_BY(mutex_)
  uint64_t dropped_reported_ = 0;  // GUARDED_BY(mutex_)
};

// "2026-11-29T15:20:43.123456789Z" (fraction optional, Z or ±hh:mm) as unix nanoseconds.
Result<int64_t> ParseRfc3339Nanos(const std::string& text);

}  // namespace warden::control_plane
