#include "edge/decision_spool.h"

#include <filesystem>

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
      "PRAGMA busy_timeout=5000; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
      "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
      // One row per segment of consecutive entries (whatever the writer took from the queue at
      // once), so spooling costs one row per batch rather than one per decision.
      "CREATE TABLE IF NOT EXISTS segments (first_sequence INTEGER PRIMARY KEY, count INTEGER NOT NULL, "
      "body TEXT NOT NULL);"));
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
  auto count = db_.Prepare("SELECT coalesce(sum(count), 0) FROM segments");
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
      db_.Prepare("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!statement.ok()) return statement.status();
  statement->Bind(1, key).Bind(2, value);
  return statement->Run();
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

Status DecisionSpool::Append(const std::vector<std::string>& bodies, uint64_t dropped) {
  std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::Begin(db_);
  if (!transaction.ok()) return transaction.status();
  if (!bodies.empty()) {
    // Entries are JSON, which never holds a raw newline: one per line.
    std::string body;
    size_t total = 0;
    for (const auto& entry : bodies) total += entry.size() + 1;
    body.reserve(total);
    for (const auto& entry : bodies) {
      body += entry;
      body += '\n';
    }
    auto insert = db_.Prepare("INSERT INTO segments(first_sequence, count, body) VALUES (?1, ?2, ?3)");
    if (!insert.ok()) return insert.status();
    insert->Bind(1, static_cast<int64_t>(next_sequence_)).Bind(2, static_cast<int64_t>(bodies.size())).Bind(3, body);
    WARDEN_RETURN_IF_ERROR(insert->Run());
  }
  uint64_t sequence = next_sequence_ + bodies.size();
  WARDEN_RETURN_IF_ERROR(SetMeta("next_sequence", std::to_string(sequence)));
  if (dropped > 0) WARDEN_RETURN_IF_ERROR(SetMeta("dropped_unreported", std::to_string(dropped_unreported_ + dropped)));
  WARDEN_RETURN_IF_ERROR(transaction->Commit());
  next_sequence_ = sequence;
  size_ += bodies.size();
  dropped_unreported_ += dropped;
  return Status::Ok();
}

Result<DecisionSpool::Batch> DecisionSpool::Oldest(size_t limit) const {
  std::lock_guard lock(mutex_);
  auto select = db_.Prepare("SELECT first_sequence, body FROM segments ORDER BY first_sequence");
  if (!select.ok()) return select.status();
  Batch batch;
  while (batch.entries.size() < limit) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    uint64_t sequence = static_cast<uint64_t>(select->ColumnInt(0));
    std::string body = select->ColumnText(1);
    size_t start = 0;
    while (start < body.size() && batch.entries.size() < limit) {
      size_t end = body.find('\n', start);
      if (end == std::string::npos) end = body.size();
      batch.entries.emplace_back(sequence++, body.substr(start, end - start));
      start = end + 1;
    }
  }
  batch.dropped = dropped_unreported_;
  return batch;
}

Status DecisionSpool::Acknowledge(uint64_t through_sequence, uint64_t dropped_reported) {
  std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::Begin(db_);
  if (!transaction.ok()) return transaction.status();
  size_t removed = 0;
  // Whole segments up to `through_sequence` go; a segment it ends inside keeps its tail.
  auto select = db_.Prepare("SELECT first_sequence, count, body FROM segments WHERE first_sequence <= ?1 "
                            "ORDER BY first_sequence");
  if (!select.ok()) return select.status();
  select->Bind(1, static_cast<int64_t>(through_sequence));
  struct Segment {
    uint64_t first;
    uint64_t count;
    std::string body;
  };
  std::vector<Segment> acknowledged;
  while (true) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    acknowledged.push_back({static_cast<uint64_t>(select->ColumnInt(0)), static_cast<uint64_t>(select->ColumnInt(1)),
                            select->ColumnText(2)});
  }
  auto remove = db_.Prepare("DELETE FROM segments WHERE first_sequence = ?1");
  if (!remove.ok()) return remove.status();
  for (auto& segment : acknowledged) {
    remove->Bind(1, static_cast<int64_t>(segment.first));
    WARDEN_RETURN_IF_ERROR(remove->Run());
    remove->Reset();
    uint64_t last = segment.first + segment.count - 1;
    if (last <= through_sequence) {
      removed += segment.count;
      continue;
    }
    uint64_t keep_from = through_sequence + 1;
    size_t skip = keep_from - segment.first;
    size_t at = 0;
    for (size_t i = 0; i < skip; ++i) at = segment.body.find('\n', at) + 1;
    auto insert = db_.Prepare("INSERT INTO segments(first_sequence, count, body) VALUES (?1, ?2, ?3)");
    if (!insert.ok()) return insert.status();
    insert->Bind(1, static_cast<int64_t>(keep_from)).Bind(2, static_cast<int64_t>(segment.count - skip))
        .Bind(3, std::string_view(segment.body).substr(at));
    WARDEN_RETURN_IF_ERROR(insert->Run());
    removed += skip;
  }
  uint64_t remaining_drops = dropped_unreported_ - std::min(dropped_unreported_, dropped_reported);
  WARDEN_RETURN_IF_ERROR(SetMeta("dropped_unreported", std::to_string(remaining_drops)));
  WARDEN_RETURN_IF_ERROR(transaction->Commit());
  size_ -= std::min(size_, removed);
  dropped_unreported_ = remaining_drops;
  return Status::Ok();
}

}  // namespace warden::edge
