#include "edge/decision_spool.h"

#include <filesystem>
#include <optional>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <zlib.h>

#include "edge/decision_entry.h"
#include "edge/decision_segment.h"
#include "edge/replica.h"  // NewUuid

namespace warden::edge {

using nlohmann::json;

struct DecisionSpool::Segment {
  uint64_t first = 0, count = 0, skip = 0;
};

namespace {

uint32_t Crc32(std::string_view body) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes at most 4 GiB at once; a segment is far smaller, but the loop costs nothing.
  while (!body.empty()) {
    auto chunk = static_cast<uInt>(std::min<size_t>(body.size(), 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(body.data()), chunk);
    body.remove_prefix(chunk);
  }
  return static_cast<uint32_t>(crc);
}

// Whether an SQLite error says the file itself is damaged (SQLITE_CORRUPT, SQLITE_NOTADB), as
// opposed to a full disk or a busy lock, which pass.
bool IsFileDamage(const Status& status) {
  const std::string& message = status.message();
  return !status.ok() && (message.find("malformed") != std::string::npos ||
                          message.find("not a database") != std::string::npos);
}

// Strings over `max_bytes` anywhere in `value`, cut, with the JSON pointer of each in `cut`.
void CapStrings(json& value, const std::string& pointer, size_t max_bytes, std::vector<std::string>& cut) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (text.size() > max_bytes) {
      value = std::string(CutUtf8(text, max_bytes));
      cut.push_back(pointer);
    }
  } else if (value.is_object()) {
    for (auto& [key, member] : value.items()) {
      if (key == "truncated") continue;
      std::string escaped;
      for (char c : key) escaped += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
      CapStrings(member, pointer + "/" + escaped, max_bytes, cut);
    }
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) CapStrings(value[i], pointer + "/" + std::to_string(i), max_bytes, cut);
  }
}

// Lines [skip, skip + take) of a JSON-lines segment appended to `out`, each checked to be JSON and
// with strings over `field_bytes` cut; stops before a line that would take `out` past `max_bytes`
// unless `out` is empty. How many went, or Internal when the segment is damaged.
Result<size_t> AppendJsonLines(std::string_view body, size_t skip, size_t take, size_t field_bytes, size_t max_bytes,
                               std::string& out) {
  auto damaged = [] { return Status::Internal("decision-log spool: a damaged JSON-lines segment"); };
  size_t at = 0;
  for (size_t i = 0; i < skip; ++i) {
    size_t end = body.find('\n', at);
    if (end == std::string_view::npos) return damaged();
    at = end + 1;
  }
  size_t appended = 0;
  for (; appended < take; ++appended) {
    size_t end = body.find('\n', at);
    if (end == std::string_view::npos) return damaged();
    std::string_view line = body.substr(at, end - at);
    at = end + 1;
    size_t before = out.size();
    if (line.size() <= field_bytes) {
      if (!json::accept(line)) return damaged();
      out.append(line);
    } else {
      json entry = json::parse(line, nullptr, false);
      if (entry.is_discarded() || !entry.is_object()) return damaged();
      std::vector<std::string> cut;
      CapStrings(entry, "", field_bytes, cut);
      if (!cut.empty()) {
        json& list = entry["truncated"];
        if (!list.is_array()) list = json::array();
        for (auto& pointer : cut) list.push_back(std::move(pointer));
      }
      out += entry.dump();
    }
    out += '\n';
    if (out.size() > max_bytes && before > 0) {
      out.resize(before);
      break;
    }
  }
  return appended;
}

// Why a segment read back is not what was written, or "" when it is: the whole body checked,
// for salvage (reading for a batch checks only what it takes).
std::string SegmentDamage(std::string_view body, std::optional<uint32_t> crc, size_t count) {
  if (crc && *crc != Crc32(body)) return "checksum mismatch";
  std::string scratch;
  if (IsCompactSegment(body)) {
    if (!DecodeSegment(body, "", 1, 0, count, scratch).ok()) return "does not decode";
  } else if (!AppendJsonLines(body, 0, count, std::numeric_limits<size_t>::max(),
                              std::numeric_limits<size_t>::max(), scratch).ok()) {
    return "damaged JSON lines";
  }
  return "";
}

}  // namespace

Result<std::unique_ptr<DecisionSpool>> DecisionSpool::Open(const std::string& path) {
  auto db = sqlite::Database::Open(path, /*create=*/true);
  if (!db.ok()) return db.status().WithPrefix("decision-log spool");
  std::unique_ptr<DecisionSpool> spool(new DecisionSpool(std::move(*db), path));
  if (!spool->db_.QuickCheckPasses()) {
    WARDEN_RETURN_IF_ERROR(spool->Salvage("SQLite's quick_check fails"));
    return spool;
  }
  Status initialized = spool->Initialize();
  if (IsFileDamage(initialized)) {
    WARDEN_RETURN_IF_ERROR(spool->Salvage(initialized.message()));
    return spool;
  }
  if (!initialized.ok()) return initialized;
  return spool;
}

namespace {

Status CreateSchema(sqlite::Database& db) {
  WARDEN_RETURN_IF_ERROR(db.Exec(
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
      "body TEXT NOT NULL, skip INTEGER NOT NULL DEFAULT 0, crc INTEGER);"));
  // Spools made before segments had `skip` (their acknowledged heads were cut off instead) or
  // `crc` (their rows stay unchecked).
  for (const char* column : {"skip", "crc"}) {
    auto columns = db.Prepare("SELECT count(*) FROM pragma_table_info('segments') WHERE name = ?1");
    if (!columns.ok()) return columns.status();
    columns->Bind(1, column);
    auto has = columns->Step();
    if (!has.ok()) return has.status();
    if (columns->ColumnInt(0) > 0) continue;
    WARDEN_RETURN_IF_ERROR(db.Exec(std::string("ALTER TABLE segments ADD COLUMN ") + column +
                                   (std::string_view(column) == "skip" ? " INTEGER NOT NULL DEFAULT 0" : " INTEGER")));
  }
  return Status::Ok();
}

}  // namespace

Status DecisionSpool::Initialize() {
  WARDEN_RETURN_IF_ERROR(CreateSchema(db_));
  auto read = db_.Prepare("SELECT key, value FROM meta");
  if (!read.ok()) return read.status();
  while (true) {
    auto row = read->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    std::string key = read->ColumnText(0);
    std::string value = read->ColumnText(1);
    uint64_t number = value.find_first_not_of("0123456789") == std::string::npos && !value.empty() && value.size() < 20
                          ? std::stoull(value)
                          : 0;
    if (key == "instance_id") instance_id_ = value;
    if (key == "next_sequence") next_sequence_ = std::max<uint64_t>(1, number);
    if (key == "dropped_unreported") dropped_unreported_ = number;
    if (key == "damaged_unreported") damaged_unreported_ = number;
    if (key == "damaged_total") damaged_total_ = number;
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
  WARDEN_RETURN_IF_ERROR(SetMeta("next_sequence", std::to_string(next_sequence_)));
  WARDEN_RETURN_IF_ERROR(SetMeta("held", std::to_string(size_)));
  WARDEN_RETURN_IF_ERROR(SetMeta("dropped_unreported", std::to_string(dropped_unreported_)));
  WARDEN_RETURN_IF_ERROR(SetMeta("damaged_unreported", std::to_string(damaged_unreported_)));
  WARDEN_RETURN_IF_ERROR(SetMeta("damaged_total", std::to_string(damaged_total_)));
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

uint64_t DecisionSpool::damaged_total() const {
  std::lock_guard lock(mutex_);
  return damaged_total_;
}

Status DecisionSpool::SalvageIfDamaged(const Status& status) {
  if (IsFileDamage(status)) {
    Status salvaged = Salvage(status.message());
    if (!salvaged.ok()) spdlog::error("decision log: cannot salvage the spool {}: {}", path_, salvaged.message());
  }
  return status;
}

Status DecisionSpool::Append(std::string_view body, size_t count, uint64_t dropped) {
  std::lock_guard lock(mutex_);
  Status appended = [&]() -> Status {
    auto transaction = sqlite::Transaction::Begin(db_);
    if (!transaction.ok()) return transaction.status();
    if (count > 0) {
      auto insert = db_.Cached("INSERT INTO segments(first_sequence, count, body, crc) VALUES (?1, ?2, ?3, ?4)");
      if (!insert.ok()) return insert.status();
      // A compact body is bytes, not UTF-8; SQLite keeps text of any bytes by its length.
      (*insert)->Bind(1, static_cast<int64_t>(next_sequence_)).Bind(2, static_cast<int64_t>(count)).Bind(3, body)
          .Bind(4, static_cast<int64_t>(Crc32(body)));
      WARDEN_RETURN_IF_ERROR((*insert)->Run());
    }
    uint64_t sequence = next_sequence_ + count;
    WARDEN_RETURN_IF_ERROR(SetMeta("next_sequence", std::to_string(sequence)));
    WARDEN_RETURN_IF_ERROR(SetMeta("held", std::to_string(size_ + count)));
    if (dropped > 0) WARDEN_RETURN_IF_ERROR(SetMeta("dropped_unreported", std::to_string(dropped_unreported_ + dropped)));
    WARDEN_RETURN_IF_ERROR(transaction->Commit());
    next_sequence_ = sequence;
    size_ += count;
    dropped_unreported_ += dropped;
    return Status::Ok();
  }();
  return SalvageIfDamaged(appended);
}

Status DecisionSpool::Append(const std::vector<std::string>& bodies, uint64_t dropped) {
  std::string lines;
  for (const auto& body : bodies) {
    lines += body;
    lines += '\n';
  }
  return Append(lines, bodies.size(), dropped);
}

Result<DecisionSpool::Batch> DecisionSpool::Oldest(const ReadLimits& limits) {
  std::lock_guard lock(mutex_);
  auto select = db_.Cached("SELECT first_sequence, count, skip, body, crc FROM segments ORDER BY first_sequence");
  if (!select.ok()) return SalvageIfDamaged(select.status());
  Batch batch;
  std::vector<Segment> damaged;
  Status status = Status::Ok();
  while (batch.count < limits.entries) {
    auto row = (*select)->Step();
    if (!row.ok()) {
      status = row.status();
      break;
    }
    if (!*row) break;
    Segment segment{static_cast<uint64_t>((*select)->ColumnInt(0)), static_cast<uint64_t>((*select)->ColumnInt(1)),
                    static_cast<uint64_t>((*select)->ColumnInt(2))};
    if (segment.skip >= segment.count) continue;
    std::string body = (*select)->ColumnText(3);
    if (!(*select)->ColumnIsNull(4) && static_cast<uint32_t>((*select)->ColumnInt(4)) != Crc32(body)) {
      damaged.push_back(segment);
      continue;
    }
    size_t take = std::min<size_t>(segment.count - segment.skip, limits.entries - batch.count);
    size_t before = batch.lines.size();
    // Compact segments are written out as JSON now, as they leave (see decision_segment.h); JSON
    // lines (masked entries, older spools) are taken whole, from the first not acknowledged.
    Result<size_t> taken =
        IsCompactSegment(body)
            ? DecodeSegment(body, instance_id_, segment.first, segment.skip, take, batch.lines, limits.field_bytes,
                            limits.bytes)
            : AppendJsonLines(body, segment.skip, take, limits.field_bytes, limits.bytes, batch.lines);
    if (!taken.ok()) {
      batch.lines.resize(before);
      damaged.push_back(segment);
      continue;
    }
    if (*taken == 0) break;
    if (batch.count == 0) batch.first = segment.first + segment.skip;
    batch.count += *taken;
    batch.through = segment.first + segment.skip + *taken - 1;
    if (*taken < take) break;  // the byte bound
  }
  (*select)->Reset();
  if (!status.ok()) return SalvageIfDamaged(status);
  if (!damaged.empty()) WARDEN_RETURN_IF_ERROR(SalvageIfDamaged(DropDamaged(damaged)));
  batch.dropped = dropped_unreported_;
  batch.damaged = damaged_unreported_;
  return batch;
}

Status DecisionSpool::DropDamaged(const std::vector<Segment>& damaged) {
  uint64_t lost = 0;
  auto transaction = sqlite::Transaction::Begin(db_);
  if (!transaction.ok()) return transaction.status();
  for (const Segment& segment : damaged) {
    auto remove = db_.Cached("DELETE FROM segments WHERE first_sequence = ?1");
    if (!remove.ok()) return remove.status();
    (*remove)->Bind(1, static_cast<int64_t>(segment.first));
    WARDEN_RETURN_IF_ERROR((*remove)->Run());
    lost += segment.count - segment.skip;
  }
  WARDEN_RETURN_IF_ERROR(SetMeta("held", std::to_string(size_ - std::min<uint64_t>(size_, lost))));
  WARDEN_RETURN_IF_ERROR(SetMeta("dropped_unreported", std::to_string(dropped_unreported_ + lost)));
  WARDEN_RETURN_IF_ERROR(SetMeta("damaged_unreported", std::to_string(damaged_unreported_ + lost)));
  WARDEN_RETURN_IF_ERROR(SetMeta("damaged_total", std::to_string(damaged_total_ + lost)));
  WARDEN_RETURN_IF_ERROR(transaction->Commit());
  for (const Segment& segment : damaged) {
    spdlog::error("decision log: spool segment of sequences {} to {} in {} is damaged; skipped, {} unshipped entries "
                  "lost (reported to the control plane as dropped)",
                  segment.first, segment.first + segment.count - 1, path_, segment.count - segment.skip);
  }
  size_ -= std::min<uint64_t>(size_, lost);
  dropped_unreported_ += lost;
  damaged_unreported_ += lost;
  damaged_total_ += lost;
  return Status::Ok();
}

Result<size_t> DecisionSpool::RemoveThrough(uint64_t through_sequence) {
  // Whole segments up to `through_sequence` go; one it ends inside keeps its rest, by `skip`.
  auto select = db_.Cached("SELECT first_sequence, count, skip FROM segments WHERE first_sequence <= ?1 "
                           "ORDER BY first_sequence");
  if (!select.ok()) return select.status();
  (*select)->Bind(1, static_cast<int64_t>(through_sequence));
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
  return removed;
}

Status DecisionSpool::Acknowledge(uint64_t through_sequence, uint64_t dropped_reported, uint64_t damaged_reported) {
  std::lock_guard lock(mutex_);
  Status acknowledged = [&]() -> Status {
    auto transaction = sqlite::Transaction::Begin(db_);
    if (!transaction.ok()) return transaction.status();
    auto removed = RemoveThrough(through_sequence);
    if (!removed.ok()) return removed.status();
    uint64_t remaining_drops = dropped_unreported_ - std::min(dropped_unreported_, dropped_reported);
    uint64_t remaining_damage = damaged_unreported_ - std::min(damaged_unreported_, damaged_reported);
    size_t held = size_ - std::min(size_, *removed);
    WARDEN_RETURN_IF_ERROR(SetMeta("held", std::to_string(held)));
    WARDEN_RETURN_IF_ERROR(SetMeta("dropped_unreported", std::to_string(remaining_drops)));
    WARDEN_RETURN_IF_ERROR(SetMeta("damaged_unreported", std::to_string(remaining_damage)));
    WARDEN_RETURN_IF_ERROR(transaction->Commit());
    size_ = held;
    dropped_unreported_ = remaining_drops;
    damaged_unreported_ = remaining_damage;
    return Status::Ok();
  }();
  return SalvageIfDamaged(acknowledged);
}

Status DecisionSpool::Discard(uint64_t through_sequence) {
  std::lock_guard lock(mutex_);
  Status discarded = [&]() -> Status {
    auto transaction = sqlite::Transaction::Begin(db_);
    if (!transaction.ok()) return transaction.status();
    auto removed = RemoveThrough(through_sequence);
    if (!removed.ok()) return removed.status();
    size_t held = size_ - std::min(size_, *removed);
    WARDEN_RETURN_IF_ERROR(SetMeta("held", std::to_string(held)));
    WARDEN_RETURN_IF_ERROR(SetMeta("dropped_unreported", std::to_string(dropped_unreported_ + *removed)));
    WARDEN_RETURN_IF_ERROR(transaction->Commit());
    size_ = held;
    dropped_unreported_ += *removed;
    return Status::Ok();
  }();
  return SalvageIfDamaged(discarded);
}

Status DecisionSpool::Salvage(const std::string& why) {
  // What can still be read: the identity and counters from meta, then segments one at a time by
  // key, so that a damaged page ends the reading only where it lies.
  const bool running = !instance_id_.empty();  // at runtime the identity and counts in memory hold
  std::string instance_id = instance_id_;
  uint64_t next_sequence = next_sequence_, dropped = dropped_unreported_, damaged = damaged_unreported_,
           damaged_total = damaged_total_;
  std::optional<uint64_t> held;
  if (running) held = size_;
  // SQLite refuses a file shorter than its header says (a truncated one) unless the schema is
  // writable; nothing is written to this file, only read from it.
  (void)db_.Exec("PRAGMA writable_schema=ON");
  if (!running) {
    if (auto read = db_.Prepare("SELECT key, value FROM meta"); read.ok()) {
      while (true) {
        auto row = read->Step();
        if (!row.ok() || !*row) break;
        std::string key = read->ColumnText(0), value = read->ColumnText(1);
        if (value.empty() || value.size() >= 20 || value.find_first_not_of("0123456789") != std::string::npos) {
          if (key == "instance_id" && value.size() == 36) instance_id = value;
          continue;
        }
        uint64_t number = std::stoull(value);
        if (key == "next_sequence") next_sequence = std::max<uint64_t>(1, number);
        if (key == "held") held = number;
        if (key == "dropped_unreported") dropped = number;
        if (key == "damaged_unreported") damaged = number;
        if (key == "damaged_total") damaged_total = number;
      }
    }
  }
  struct Kept {
    Segment segment;
    std::string body;
  };
  std::vector<Kept> kept;
  uint64_t kept_entries = 0, lost_seen = 0;
  uint64_t highest_sequence = 0;
  auto select = db_.Prepare("SELECT first_sequence, count, skip, body, crc FROM segments "
                            "WHERE first_sequence > ?1 ORDER BY first_sequence LIMIT 1");
  // The same without the body, which is what lies on overflow pages: to step over a row whose
  // body cannot be read.
  auto header = db_.Prepare("SELECT first_sequence, count, skip FROM segments "
                            "WHERE first_sequence > ?1 ORDER BY first_sequence LIMIT 1");
  if (select.ok() && header.ok()) {
    int64_t after = -1;
    while (true) {
      select->Reset();
      select->Bind(1, after);
      auto row = select->Step();
      if (!row.ok()) {
        header->Reset();
        header->Bind(1, after);
        auto unreadable = header->Step();
        if (!unreadable.ok() || !*unreadable) break;
        after = header->ColumnInt(0);
        uint64_t count = static_cast<uint64_t>(header->ColumnInt(1)), skip = static_cast<uint64_t>(header->ColumnInt(2));
        if (skip < count) {
          lost_seen += count - skip;
          highest_sequence = std::max(highest_sequence, static_cast<uint64_t>(after) + count - 1);
        }
        continue;
      }
      if (!*row) break;
      Segment segment{static_cast<uint64_t>(select->ColumnInt(0)), static_cast<uint64_t>(select->ColumnInt(1)),
                      static_cast<uint64_t>(select->ColumnInt(2))};
      after = static_cast<int64_t>(segment.first);
      if (segment.count == 0 || segment.skip >= segment.count) continue;
      highest_sequence = std::max(highest_sequence, segment.first + segment.count - 1);
      std::string body = select->ColumnText(3);
      std::optional<uint32_t> crc;
      if (!select->ColumnIsNull(4)) crc = static_cast<uint32_t>(select->ColumnInt(4));
      if (!SegmentDamage(body, crc, segment.count).empty()) {
        lost_seen += segment.count - segment.skip;
        continue;
      }
      kept_entries += segment.count - segment.skip;
      kept.push_back({segment, std::move(body)});
    }
  }
  const bool identity_known = !instance_id.empty();
  if (!identity_known) {
    // Without the instance UUID the entries read cannot be shipped as what they were (their
    // sequences belong to it): a new instance starts, as with a lost spool.
    lost_seen += kept_entries;
    kept.clear();
    kept_entries = 0;
    instance_id = NewUuid();
    next_sequence = 1;
    held.reset();
  }
  next_sequence = std::max(next_sequence, highest_sequence + 1);
  // Exact when the count of entries held was readable; else what the damaged rows read said.
  const bool exact = held.has_value();
  uint64_t lost = exact ? (*held > kept_entries ? *held - kept_entries : 0) : lost_seen;

  // Set the file aside (closed first: closing checkpoints and removes its WAL by name).
  auto memory = sqlite::Database::Open(":memory:", /*create=*/true);
  if (!memory.ok()) return memory.status();
  db_ = std::move(*memory);
  std::error_code ignored;
  std::filesystem::rename(path_, path_ + ".corrupt", ignored);
  std::filesystem::remove(path_ + ".corrupt-wal", ignored);
  std::filesystem::rename(path_ + "-wal", path_ + ".corrupt-wal", ignored);
  std::filesystem::remove(path_ + "-shm", ignored);
  auto fresh = sqlite::Database::Open(path_, /*create=*/true);
  if (!fresh.ok()) return fresh.status().WithPrefix("decision-log spool");
  db_ = std::move(*fresh);
  WARDEN_RETURN_IF_ERROR(CreateSchema(db_));
  {
    auto transaction = sqlite::Transaction::Begin(db_);
    if (!transaction.ok()) return transaction.status();
    for (const Kept& segment : kept) {
      auto insert = db_.Cached("INSERT INTO segments(first_sequence, count, body, skip, crc) VALUES (?1, ?2, ?3, ?4, ?5)");
      if (!insert.ok()) return insert.status();
      (*insert)->Bind(1, static_cast<int64_t>(segment.segment.first)).Bind(2, static_cast<int64_t>(segment.segment.count))
          .Bind(3, segment.body).Bind(4, static_cast<int64_t>(segment.segment.skip))
          .Bind(5, static_cast<int64_t>(Crc32(segment.body)));
      WARDEN_RETURN_IF_ERROR((*insert)->Run());
    }
    WARDEN_RETURN_IF_ERROR(SetMeta("instance_id", instance_id));
    WARDEN_RETURN_IF_ERROR(SetMeta("next_sequence", std::to_string(next_sequence)));
    WARDEN_RETURN_IF_ERROR(SetMeta("held", std::to_string(kept_entries)));
    WARDEN_RETURN_IF_ERROR(SetMeta("dropped_unreported", std::to_string(dropped + lost)));
    WARDEN_RETURN_IF_ERROR(SetMeta("damaged_unreported", std::to_string(damaged + lost)));
    WARDEN_RETURN_IF_ERROR(SetMeta("damaged_total", std::to_string(damaged_total + lost)));
    WARDEN_RETURN_IF_ERROR(transaction->Commit());
  }
  instance_id_ = instance_id;
  next_sequence_ = next_sequence;
  size_ = kept_entries;
  dropped_unreported_ = dropped + lost;
  damaged_unreported_ = damaged + lost;
  damaged_total_ = damaged_total + lost;
  spdlog::error("decision log: the spool {} is damaged ({}); set aside as {}.corrupt; {} entries carried over, {}{} "
                "lost (reported to the control plane as dropped){}",
                path_, why, path_, kept_entries, exact ? "" : "at least ", lost,
                identity_known ? "" : "; its instance UUID was unreadable, so a new instance " + instance_id + " starts");
  return Status::Ok();
}

}  // namespace warden::edge
