#include "edge/decision_spool.h"

#include <filesystem>

#include "edge/replica.h"  // NewUuid

namespace warden::edge {

namespace {

bool QuickCheckPasses(sqlite::Database& db) {
  auto check = db.Prepare("PRAGMA quick_check");
  if (!check.ok()) return false;
  auto row = check->Step();
  return row.ok() && *row && check->ColumnText(0) == "ok";
}

}  // namespace

Result<std::unique_ptr<DecisionSpool>> DecisionSpool::Open(const std::string& path) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto db = sqlite::Database::Open(path, /*create=*/true);
    if (db.ok() && QuickCheckPasses(*db)) {
      std::unique_ptr<DecisionSpool> spool(new DecisionSpool(std::move(*db)));
      WARDEN_RETURN_IF_ERROR(spool->Initialize());
      return spool;
    }
    if (attempt == 1) break;
    std::error_code error;
    std::filesystem::rename(path, path + ".corrupt", error);
    std::filesystem::remove(path + "-wal", error);
    std::filesystem::remove(path + "-shm", error);
  }
  return Status::Internal("decision-log spool: cannot open or create " + path);
}

Status DecisionSpool::Initialize() {
  WARDEN_RETURN_IF_ERROR(db_.Exec(
      "PRAGMA busy_timeout=5000; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
      "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS entries (sequence INTEGER PRIMARY KEY, body TEXT NOT NULL);"));
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
  auto count = db_.Prepare("SELECT count(*) FROM entries");
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
  auto insert = db_.Prepare("INSERT INTO entries(sequence, body) VALUES (?1, ?2)");
  if (!insert.ok()) return insert.status();
  uint64_t sequence = next_sequence_;
  for (const auto& body : bodies) {
    insert->Bind(1, static_cast<int64_t>(sequence++)).Bind(2, body);
    WARDEN_RETURN_IF_ERROR(insert->Run());
    insert->Reset();
  }
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
  auto select = db_.Prepare("SELECT sequence, body FROM entries ORDER BY sequence LIMIT ?1");
  if (!select.ok()) return select.status();
  select->Bind(1, static_cast<int64_t>(limit));
  Batch batch;
  while (true) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    batch.entries.emplace_back(static_cast<uint64_t>(select->ColumnInt(0)), select->ColumnText(1));
  }
  batch.dropped = dropped_unreported_;
  return batch;
}

Status DecisionSpool::Acknowledge(uint64_t through_sequence, uint64_t dropped_reported) {
  std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::Begin(db_);
  if (!transaction.ok()) return transaction.status();
  auto acknowledged = db_.Prepare("SELECT count(*) FROM entries WHERE sequence <= ?1");
  if (!acknowledged.ok()) return acknowledged.status();
  acknowledged->Bind(1, static_cast<int64_t>(through_sequence));
  auto counted = acknowledged->Step();
  if (!counted.ok()) return counted.status();
  size_t removed = static_cast<size_t>(acknowledged->ColumnInt(0));
  auto remove = db_.Prepare("DELETE FROM entries WHERE sequence <= ?1");
  if (!remove.ok()) return remove.status();
  remove->Bind(1, static_cast<int64_t>(through_sequence));
  WARDEN_RETURN_IF_ERROR(remove->Run());
  uint64_t remaining_drops = dropped_unreported_ - std::min(dropped_unreported_, dropped_reported);
  WARDEN_RETURN_IF_ERROR(SetMeta("dropped_unreported", std::to_string(remaining_drops)));
  WARDEN_RETURN_IF_ERROR(transaction->Commit());
  size_ -= std::min(size_, removed);
  dropped_unreported_ = remaining_drops;
  return Status::Ok();
}

}  // namespace warden::edge
