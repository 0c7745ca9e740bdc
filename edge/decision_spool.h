// DecisionSpool: the edge's durable buffer of decision-log entries, in SQLite, between the writer
// that appends them and the shipper that deletes what the control plane acknowledged.
//
// The spool owns the log's identity: an instance UUID made with the file and the next sequence
// number, both persisted in the same transactions as the entries. So after a crash the sequence
// continues where the durable entries end, and an edge that loses its spool starts a new instance
// (the control plane's (instance, sequence) key never mistakes new entries for old ones).
//
// Damage never stops shipping. Each segment carries a CRC-32 of its body; a segment that fails it
// (or does not decode) is skipped when read, its unshipped entries counted as lost. A file SQLite
// finds damaged (at open, or by an error saying so later) is set aside as `<path>.corrupt` and
// what can still be read of it is carried over into a new file; when its identity (instance
// UUID, next sequence) is still readable the new file keeps it. Every loss is logged, added to
// the drops the next batch reports (and to `damaged`, the part of them damage caused), and kept
// in damaged_total() for /v1/status.
//
// Schema: meta(key PRIMARY KEY, value): instance_id, next_sequence, held (entries not yet
//                                       acknowledged), dropped_unreported, damaged_unreported,
//                                       damaged_total
//         segments(first_sequence INTEGER PRIMARY KEY, count, body TEXT, skip, crc)
//                  consecutive entries, one row per turn of the writer: the compact form of
//                  decision_segment.h, or JSON lines; `skip` of them acknowledged already;
//                  `crc` the body's CRC-32 (NULL in rows of spools made before it)
#pragma once

#include <cstdint>
#include <limits>
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
  // Opens or creates the spool; a damaged file is set aside and salvaged (see above).
  static Result<std::unique_ptr<DecisionSpool>> Open(const std::string& path);

  const std::string& instance_id() const { return instance_id_; }
  uint64_t next_sequence() const;
  size_t size() const;                 // entries held
  uint64_t dropped_unreported() const;
  uint64_t damaged_total() const;      // entries lost to damage, ever, by this instance's spool

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
    uint64_t damaged = 0;  // the part of `dropped` that damage to the spool lost
  };
  struct ReadLimits {
    size_t entries = 1000;
    // The lines stop before the entry that would take them past this (one entry always goes).
    size_t bytes = std::numeric_limits<size_t>::max();
    // Strings longer than this are cut (and marked) as the lines are written: entries spooled
    // before the bound, or under a larger one, ship within today's.
    size_t field_bytes = std::numeric_limits<size_t>::max();
  };
  // The oldest entries not acknowledged, within `limits`, as JSON lines (compact segments are
  // written out as JSON here). Damaged segments are skipped and their entries counted as lost.
  Result<Batch> Oldest(const ReadLimits& limits);
  Result<Batch> Oldest(size_t limit) { return Oldest(ReadLimits{limit}); }
  // Forgets entries up to `through_sequence` (whole segments deleted, the one it ends inside
  // marked) and subtracts the drops (and damage) reported with them, in one transaction.
  Status Acknowledge(uint64_t through_sequence, uint64_t dropped_reported, uint64_t damaged_reported = 0);
  // Forgets entries up to `through_sequence` that the control plane will never take (it refused
  // them one by one), counting them as dropped, in one transaction.
  Status Discard(uint64_t through_sequence);

 private:
  struct Segment;
  DecisionSpool(sqlite::Database db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}
  Status Initialize();
  Status SetMeta(const std::string& key, const std::string& value);
  // Removes segments up to `through_sequence`; returns how many unacknowledged entries went.
  Result<size_t> RemoveThrough(uint64_t through_sequence);
  // Deletes damaged segments, counting their entries as lost. REQUIRES: mutex_ held.
  Status DropDamaged(const std::vector<Segment>& damaged);
  // Sets the file aside and carries what can be read of it into a new one. REQUIRES: mutex_
  // held, or the spool not yet shared.
  Status Salvage(const std::string& why);
  // When `status` says the file is damaged, salvages it; returns `status` either way.
  Status SalvageIfDamaged(const Status& status);

  mutable std::mutex mutex_;
  mutable sqlite::Database db_;
  std::string path_;
  std::string instance_id_;
  uint64_t next_sequence_ = 1;
  size_t size_ = 0;
  uint64_t dropped_unreported_ = 0;
  uint64_t damaged_unreported_ = 0;
  uint64_t damaged_total_ = 0;
};

}  // namespace warden::edge
