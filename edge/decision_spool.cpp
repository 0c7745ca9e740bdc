#include "edge/decision_spool.h"

#include <filesystem>

#include "edge/decision_segment.h"
#include "edge/replica.h"  // NewUuid

namespace warden::edge {


Result<std::unique_ptr<DecisionSpool>> DecisionSpool::Open(const std::string& path) {
  // A damaged spool is set aside; the new one has a new instance UUID (see the header).
  bool set_aside = false;
  auto db = sqlite::Database::OpenOrSetAside(path, &set_aside);
  if (!db.ok()) return db.status().WithPrefix("decision-log spool");
  std::unique_ptr<DecisionSpool> spool(new DecisionSpool(std::move(*db)));
  WARDEN_RETURN_IF_ERROR(spool->Initialize());
  return spool;
}

Status DecisionSpool::Initialize() {
  WARDEN_RETURN_IF_ERROR(db_.Exec(
      // Segments are large (hundreds of KB at full load), written once and read once: 16 KiB
      // pages make a quarter of the system calls 4 KiB pages do for them (WAL writes, checkpoint
      // reads and writes). A new file takes it, an existing one keeps its size; it must precede
      // journal_mode=WAL.
      "PRAGMA page_size=16384; PRAGMA busy_timeout=5000; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
      "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
      // One row per segment of consecutive entries (whatever the writer took from the queue at
      // once), so spooling costs one row per batch rather than one per decision. `skip`: how many
      // of its first entries were acknowledged already.
      "CREATE TABLE IF NOT EXISTS segments (first_sequence INTEGER PRIMARY KEY, count INTEGER NOT NULL, "
      "body TEXT NOT NULL, skip INTEGER NOT NULL DEFAULT 0);"));
  // A spool made before segments had `skip` (its acknowledged heads were cut off instead).
  auto columns = db_.Prepare("SELECT count(*) FROM pragma_table_info('segments') WHERE name = 'skip'");
  if (!columns.ok()) return columns.status();
  auto has_skip = columns->Step();
  if (!has_skip.ok()) return has_skip.status();
  if (columns->ColumnInt(0) == 0) {
    WARDEN_RETURN_IF_ERROR(db_.Exec("ALTER TABLE segments ADD COLUMN skip INTEGER NOT NULL DEFAULT 0"));
  }
  auto read = db_.Prepare("SELECT key, value FROM meta");
  if (!read.ok()) return read.status();
  while (true) {
    auto row = read->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    std::string key = read->ColumnText(0);
    if (key == "instance_id") instance_id_ = read->ColumnText(1);
    if (key == "next_sequence") next_sequence_ = std::stoull(read->ColumnText(1));
    if (key == "dropped_unreported") dropped_unreported_ = std::stoull(read->ColumnText(1));
  }
  auto count = db_.Prepare("SELECT coalesce(sum(count - skip), 0) FROM segments");
  if (!count.ok()) return count.status();
  auto row = count->Step();
  if (!row.ok()) return row.status();
  size_ = static_cast<size_t>(count->ColumnInt(0));
  if (!instance_id_.empty()) return Status::Ok();
  instance_id_ = NewUuid();
  auto transaction = sqlite::Transaction::Begin(db_);
  if (!transaction.ok()) return transaction.status();
  WARDEN_RETURN_IF_ERROR(SetMeta("instance_id", instance_id_));
  WARDEN_RETURN_IF_ERROR(SetMeta("next_sequence", "1"));
  WARDEN_RETURN_IF_ERROR(SetMeta("dropped_unreported", "0"));
  return transaction->Commit();
}

Status DecisionSpool::SetMeta(const std::string& key, const std::string& value) {
  auto statement =
      db_.Cached("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!statement.ok()) return statement.status();
  (*statement)->Bind(1, key).Bind(2, value);
  return (*statement)->Run();
}

uint64_t DecisionSpool::next_sequence() const {
  std::lock_guard lock(mutex_);
  return next_sequence_;
}

size_t DecisionSpool::size() const {
  std::lock_guard lock(mutex_);
  return size_;
}

uint64_t DecisionSpool::dropped_unreported() const {
  std::lock_guard lock(mutex_);
  return dropped_unreported_;
}

Status DecisionSpool::Append(std::string_view body, size_t count, uint64_t dropped) {
  std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::Begin(db_);
  if (!transaction.ok()) return transaction.status();
  if (count > 0) {
    auto insert = db_.Cached("INSERT INTO segments(first_sequence, count, body) VALUES (?1, ?2, ?3)");
    if (!insert.ok()) return insert.status();
    // A compact body is bytes, not UTF-8; SQLite keeps text of any bytes by its length.
    (*insert)->Bind(1, static_cast<int64_t>(next_sequence_)).Bind(2, static_cast<int64_t>(count)).Bind(3, body);
    WARDEN_RETURN_IF_ERROR((*insert)->Run());
  }
  uint64_t sequence = next_sequence_ + count;
  WARDEN_RETURN_IF_ERROR(SetMeta("next_sequence", std::to_string(sequence)));
  if (dropped > 0) WARDEN_RETURN_IF_ERROR(SetMeta("dropped_unreported", std::to_string(dropped_unreported_ + dropped)));
  WARDEN_RETURN_IF_ERROR(transaction->Commit());
  next_sequence_ = sequence;
  size_ += count;
  dropped_unreported_ += dropped;
  return Status::Ok();
}

Status DecisionSpool::Append(const std::vector<std::string>& bodies, uint64_t dropped) {
  std::string lines;
  for (const auto& body : bodies) {
    lines += body;
    lines += '\n';
  }
  return Append(lines, bodies.size(), dropped);
}

namespace {

// Where the line after the first `lines` of `text` starts (text.size() when there are fewer).
size_t AfterLines(std::string_view text, size_t lines) {
  size_t at = 0;
  for (size_t i = 0; i < lines && at < text.size(); ++i) {
    size_t end = text.find('\n', at);
    at = end == std::string_view::npos ? text.size() : end + 1;
  }
  return at;
}

}  // namespace

Result<DecisionSpool::Batch> DecisionSpool::Oldest(size_t limit) const {
  std::lock_guard lock(mutex_);
  auto select = db_.Cached("SELECT first_sequence, count, skip, body FROM segments ORDER BY first_sequence");
  if (!select.ok()) return select.status();
  Batch batch;
  Status status = Status::Ok();
  while (batch.count < limit) {
    auto row = (*select)->Step();
    if (!row.ok()) {
      status = row.status();
      break;
    }
    if (!*row) break;
    uint64_t first = static_cast<uint64_t>((*select)->ColumnInt(0));
    size_t count = static_cast<size_t>((*select)->ColumnInt(1));
    size_t skip = static_cast<size_t>((*select)->ColumnInt(2));
    if (skip >= count) continue;
    std::string body = (*select)->ColumnText(3);
    size_t take = std::min(count - skip, limit - batch.count);
    if (batch.count == 0) batch.first = first + skip;
    if (IsCompactSegment(body)) {
      // Written out as JSON now, as it leaves (see decision_segment.h).
      status = DecodeSegment(body, instance_id_, first, skip, take, batch.lines);
      if (!status.ok()) break;
    } else {
      // JSON lines (masked entries, older spools): whole lines, from the first not acknowledged.
      size_t start = AfterLines(body, skip);
      batch.lines.append(body, start, AfterLines(std::string_view(body).substr(start), take));
    }
    batch.count += take;
    batch.through = first + skip + take - 1;
  }
  (*select)->Reset();
  if (!status.ok()) return status;
  batch.dropped = dropped_unreported_;
  return batch;
}

Status DecisionSpool::Acknowledge(uint64_t through_sequence, uint64_t dropped_reported) {
  std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::Begin(db_);
  if (!transaction.ok()) return transaction.status();
  // Whole segments up to `through_sequence` go; one it ends inside keeps its rest, by `skip`.
  auto select = db_.Cached("SELECT first_sequence, count, skip FROM segments WHERE first_sequence <= ?1 "
                           "ORDER BY first_sequence");
  if (!select.ok()) return select.status();
  (*select)->Bind(1, static_cast<int64_t>(through_sequence));
  struct Segment {
    uint64_t first, count, skip;
  };
  std::vector<Segment> acknowledged;
  while (true) {
    auto row = (*select)->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    acknowledged.push_back({static_cast<uint64_t>((*select)->ColumnInt(0)),
                            static_cast<uint64_t>((*select)->ColumnInt(1)),
                            static_cast<uint64_t>((*select)->ColumnInt(2))});
  }
  (*select)->Reset();
  size_t removed = 0;
  for (const Segment& segment : acknowledged) {
    uint64_t last = segment.first + segment.count - 1;
    if (last <= through_sequence) {
      auto remove = db_.Cached("DELETE FROM segments WHERE first_sequence = ?1");
      if (!remove.ok()) return remove.status();
      (*remove)->Bind(1, static_cast<int64_t>(segment.first));
      WARDEN_RETURN_IF_ERROR((*remove)->Run());
      removed += segment.count - std::min(segment.skip, segment.count);
      continue;
    }
    uint64_t skip = through_sequence + 1 - segment.first;
    if (skip <= segment.skip) continue;
    auto update = db_.Cached("UPDATE segments SET skip = ?2 WHERE first_sequence = ?1");
    if (!update.ok()) return update.status();
    (*update)->Bind(1, static_cast<int64_t>(segment.first)).Bind(2, static_cast<int64_t>(skip));
    WARDEN_RETURN_IF_ERROR((*update)->Run());
    removed += skip - segment.skip;
  }
  uint64_t remaining_drops = dropped_unreported_ - std::min(dropped_unreported_, dropped_reported);
  WARDEN_RETURN_IF_ERROR(SetMeta("dropped_unreported", std::to_string(remaining_drops)));
  WARDEN_RETURN_IF_ERROR(transaction->Commit());
  size_ -= std::min(size_, removed);
  dropped_unreported_ = remaining_drops;
  return Status::Ok();
}

}  // namespace warden::edge
