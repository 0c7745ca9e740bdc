// DecisionSpool: the edge's durable buffer of decision-log entries, in SQLite, between the writer
// that appends them and the shipper that deletes what the control plane acknowledged.
//
// The spool owns the log's identity: an instance UUID made with the file and the next sequence
// number, both persisted in the same transactions as the entries. So after a crash the sequence
// continues where the durable entries end, and an edge that loses its spool starts a new instance
// (the control plane's (instance, sequence) key never mistakes new entries for old ones).
//
// Schema: meta(key PRIMARY KEY, value): instance_id, next_sequence, dropped_unreported
//         segments(first_sequence INTEGER PRIMARY KEY, count, body TEXT, skip)
//                  consecutive entries, one row per turn of the writer: the compact form of
//                  decision_segment.h, or JSON lines; `skip` of them acknowledged already
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/store/sqlite.h"
#include "common/util/status.h"

namespace warden::edge {

class DecisionSpool {
 public:
  // Opens or creates the spool; a damaged file is set aside as `<path>.corrupt` and a new spool
  // (with a new instance UUID) takes its place.
  static Result<std::unique_ptr<DecisionSpool>> Open(const std::string& path);

  const std::string& instance_id() const { return instance_id_; }
  uint64_t next_sequence() const;
  size_t size() const;                 // entries held
  uint64_t dropped_unreported() const;

  // Appends a segment of `count` entries (`body`: compact, or JSON lines each ending in '\n') as
  // sequences next_sequence() onwards, and adds `dropped` to the unreported drops, in one
  // transaction.
  Status Append(std::string_view body, size_t count, uint64_t dropped);
  // The same for entries given one by one (tests, tools).
  Status Append(const std::vector<std::string>& bodies, uint64_t dropped);

  struct Batch {
    std::string lines;     // the entries, oldest first, each a JSON line ending in '\n'
    size_t count = 0;
    uint64_t first = 0;    // the sequence of the first entry (0 when there is none)
    uint64_t through = 0;  // the sequence of the last
    uint64_t dropped = 0;  // unreported drops to report with it
  };
  // At most `limit` of the oldest entries not acknowledged, as JSON lines (compact segments are
  // written out as JSON here). Internal for a damaged segment.
  Result<Batch> Oldest(size_t limit) const;
  // Forgets entries up to `through_sequence` (whole segments deleted, the one it ends inside
  // marked) and subtracts `dropped_reported`, in one transaction.
  Status Acknowledge(uint64_t through_sequence, uint64_t dropped_reported);

 private:
  explicit DecisionSpool(sqlite::Database db) : db_(std::move(db)) {}
  Status Initialize();
  Status SetMeta(const std::string& key, const std::string& value);

  mutable std::mutex mutex_;
  mutable sqlite::Database db_;
  std::string instance_id_;
  uint64_t next_sequence_ = 1;
  size_t size_ = 0;
  uint64_t dropped_unreported_ = 0;
};

}  // namespace warden::edge
