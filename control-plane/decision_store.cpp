#include "control-plane/decision_store.h"

#include "common/util/time_format.h"

#include <chrono>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <limits>

#include <fcntl.h>
#include <unistd.h>

namespace warden::control_plane {

using nlohmann::json;

namespace {

struct DecisionMigration {
  int version;
  const char* summary;
  const char* sql;
};

// Never edit a migration that has shipped: stores in the field were made by it. Add a new one.
// Files made before migrations were numbered (user_version 0) hold migration 1's tables already;
// its IF NOT EXISTS makes it a no-op for them.
constexpr DecisionMigration kDecisionMigrations[] = {
    {1, "decisions and drops", R"sql(
CREATE TABLE IF NOT EXISTS decisions (
  id          INTEGER PRIMARY KEY,
  instance_id TEXT NOT NULL,
  sequence    INTEGER NOT NULL,
  time_ns     INTEGER NOT NULL,
  ingested_ns INTEGER NOT NULL,
  key_id      TEXT NOT NULL,
  api         TEXT NOT NULL,
  subject     TEXT NOT NULL,
  action      TEXT NOT NULL,
  resource    TEXT NOT NULL,
  allowed     INTEGER NOT NULL,
  body        TEXT NOT NULL,
  UNIQUE (instance_id, sequence));
CREATE INDEX IF NOT EXISTS decisions_by_time ON decisions(time_ns);
CREATE INDEX IF NOT EXISTS decisions_by_subject ON decisions(subject, time_ns);
CREATE INDEX IF NOT EXISTS decisions_by_resource ON decisions(resource, time_ns);
CREATE TABLE IF NOT EXISTS drops (instance_id TEXT NOT NULL, reported_ns INTEGER NOT NULL, count INTEGER NOT NULL);
)sql"},
    {2, "instances bound to edge groups; spool damage in drops", R"sql(
CREATE TABLE instance_groups (
  instance_id TEXT PRIMARY KEY,
  key_group   TEXT NOT NULL,
  bound_ns    INTEGER NOT NULL) WITHOUT ROWID;
ALTER TABLE drops ADD COLUMN damaged INTEGER NOT NULL DEFAULT 0;
)sql"},
};
constexpr int kDecisionSchemaVersion = 2;



// The type and id of the entry's `field` ("subject", "resource"): views of its strings.
Status EntityFields(const json& entry, const char* field, const std::string& where, std::string_view& type,
                    std::string_view& id) {
  auto it = entry.find(field);
  if (it == entry.end() || !it->is_object()) return Status::InvalidArgument(where + field + ": required, an object");
  auto type_it = it->find("type");
  auto id_it = it->find("id");
  if (type_it == it->end() || !type_it->is_string() || id_it == it->end() || !id_it->is_string()) {
    return Status::InvalidArgument(where + field + ": needs string type and id");
  }
  type = type_it->get_ref<const std::string&>();
  id = id_it->get_ref<const std::string&>();
  return Status::Ok();
}

}  // namespace

Result<int64_t> ParseRfc3339Nanos(std::string_view text) {
  // Digits at fixed places ("2026-11-29T15:20:43"), read by hand: this runs for every entry
  // ingested, where sscanf and timegm cost more than the rest of the checks together.
  auto digits = [&](size_t at, size_t count, int& value) {
    value = 0;
    for (size_t i = at; i < at + count; ++i) {
      if (i >= text.size() || text[i] < '0' || text[i] > '9') return false;
      value = value * 10 + (text[i] - '0');
    }
    return true;
  };
  int year, month, day, hour, minute, second;
  if (text.size() < 19 || !digits(0, 4, year) || text[4] != '-' || !digits(5, 2, month) || text[7] != '-' ||
      !digits(8, 2, day) || (text[10] != 'T' && text[10] != 't') || !digits(11, 2, hour) || text[13] != ':' ||
      !digits(14, 2, minute) || text[16] != ':' || !digits(17, 2, second)) {
    return Status::InvalidArgument("'" + std::string(text) + "' is not an RFC 3339 time");
  }
  size_t at = 19;
  int64_t fraction_ns = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    int count = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (count < 9) {
        fraction_ns = fraction_ns * 10 + (text[at] - '0');
        ++count;
      }
      ++at;
    }
    if (count == 0) return Status::InvalidArgument("'" + std::string(text) + "' has an empty fraction");
    while (count++ < 9) fraction_ns *= 10;
  }
  int64_t offset_seconds = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (int hours, minutes; at + 6 == text.size() && (text[at] == '+' || text[at] == '-') &&
                                 digits(at + 1, 2, hours) && text[at + 3] == ':' && digits(at + 4, 2, minutes)) {
    offset_seconds = (text[at] == '+' ? 1 : -1) * (hours * 3600 + minutes * 60);
    at += 6;
  } else {
    return Status::InvalidArgument("'" + std::string(text) + "' needs a time zone (Z or +hh:mm)");
  }
  if (at != text.size()) return Status::InvalidArgument("'" + std::string(text) + "' has trailing characters");
  // Days since 1970 of the civil date (the proleptic Gregorian calendar, as timegm counts): a
  // month outside 1..12 carries into the year, and a day, hour, minute or second out of range
  // simply counts on, as timegm normalizes them.
  int64_t y = year + (month - 1) / 12;
  int64_t m = (month - 1) % 12 + 1;
  if (month == 0) {
    y = year - 1;
    m = 12;
  }
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t year_of_era = y - era * 400;
  int64_t day_of_year = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + day - 1;
  int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  int64_t days = era * 146097 + day_of_era - 719468;
  int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
  // Nanoseconds since 1970 in an int64 reach only from 1677 to 2262.
  constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() / 1'000'000'000 - 1;
  if (seconds < -kLimit || seconds > kLimit) {
    return Status::InvalidArgument("'" + std::string(text) + "' is outside the years 1678 to 2261");
  }
  return seconds * 1'000'000'000 + fraction_ns;
}

Status DecisionStore::Migrate(const KeyGroupOf& key_group_of) {
  auto version = db_.UserVersion();
  if (!version.ok()) return version.status();
  if (*version > kDecisionSchemaVersion) {
    return Status::FailedPrecondition("the decision-log store has schema version " + std::to_string(*version) +
                                      ", newer than this binary supports (" +
                                      std::to_string(kDecisionSchemaVersion) + "); run a newer warden-control-plane");
  }
  for (const DecisionMigration& migration : kDecisionMigrations) {
    if (migration.version <= *version) continue;
    std::string prefix = "decision-log store migration " + std::to_string(migration.version) + " (" +
                         migration.summary + ")";
    auto transaction = sqlite::Transaction::Begin(db_);
    if (!transaction.ok()) return transaction.status().WithPrefix(prefix);
    Status status = db_.Exec(migration.sql);
    if (status.ok() && migration.version == 2 && key_group_of) {
      // Instances stored before bindings existed are bound to the group of the key that sent
      // their first stored entry, when that key still exists; the rest bind at their next contact.
      auto firsts = db_.Prepare(
          "SELECT instance_id, key_id FROM decisions WHERE id IN (SELECT min(id) FROM decisions GROUP BY instance_id)");
      if (!firsts.ok()) return firsts.status().WithPrefix(prefix);
      auto bind = db_.Prepare("INSERT OR IGNORE INTO instance_groups(instance_id, key_group, bound_ns) VALUES (?1, ?2, ?3)");
      if (!bind.ok()) return bind.status().WithPrefix(prefix);
      while (status.ok()) {
        auto row = firsts->Step();
        if (!row.ok()) return row.status().WithPrefix(prefix);
        if (!*row) break;
        auto group = key_group_of(firsts->ColumnText(1));
        if (!group) continue;
        bind->Bind(1, firsts->ColumnText(0)).Bind(2, *group).Bind(3, UnixNanosNow());
        status = bind->Run();
      }
    }
    if (status.ok()) status = db_.Exec("PRAGMA user_version = " + std::to_string(migration.version));
    if (status.ok()) status = transaction->Commit();
    if (!status.ok()) return status.WithPrefix(prefix);
  }
  return Status::Ok();
}

Result<std::unique_ptr<DecisionStore>> DecisionStore::Open(const std::string& path, const KeyGroupOf& key_group_of) {
  auto db = sqlite::Database::Open(path, /*create=*/true);
  if (!db.ok()) return db.status();
  std::unique_ptr<DecisionStore> store(new DecisionStore(std::move(*db)));
  // synchronous=NORMAL: a commit writes the WAL without fsyncing it; SyncLog does that before
  // any batch is acknowledged (see the header). Checkpoints still fsync the WAL before copying
  // from it and the database file after.
  // Each commit rewrites every index page its rows land in, and the subject and resource
  // indexes scatter them: the cost goes with the pages written more than with their bytes.
  // Measured with 4 clients posting batches of 1,000 (2 cores): 4 KiB pages ~50k entries/s,
  // 8 KiB ~55k, 16 KiB ~67k (32 KiB ~75k, but slower than 16 KiB once the store holds 2M
  // entries). A 64 MiB cache keeps index pages from being read back. A new file takes the page
  // size; an existing one keeps its own.
  WARDEN_RETURN_IF_ERROR(store->db_.Exec(
      "PRAGMA page_size=16384; PRAGMA cache_size=-65536; PRAGMA busy_timeout=5000; PRAGMA journal_mode=WAL; "
      "PRAGMA synchronous=NORMAL;"));
  WARDEN_RETURN_IF_ERROR(store->Migrate(key_group_of));
  {
    auto groups = store->db_.Prepare("SELECT instance_id, key_group FROM instance_groups");
    if (!groups.ok()) return groups.status();
    while (true) {
      auto row = groups->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      store->groups_.emplace(groups->ColumnText(0), groups->ColumnText(1));
    }
  }
  auto checkpointer = WalCheckpointer::Start(store->db_, path);
  if (!checkpointer.ok()) return checkpointer.status();
  store->checkpointer_ = std::move(*checkpointer);
  store->log_fd_ = ::open((path + "-wal").c_str(), O_RDWR | O_CLOEXEC);
  if (store->log_fd_ < 0) {
    return Status::Unavailable("decision log: cannot open " + path + "-wal: " + std::strerror(errno));
  }
  auto count = store->db_.Prepare("SELECT (SELECT count(*) FROM decisions), (SELECT coalesce(sum(count), 0) FROM drops)");
  if (!count.ok()) return count.status();
  auto row = count->Step();
  if (!row.ok()) return row.status();
  store->count_ = static_cast<uint64_t>(count->ColumnInt(0));
  store->dropped_reported_ = static_cast<uint64_t>(count->ColumnInt(1));
  return store;
}

DecisionStore::~DecisionStore() {
  if (log_fd_ >= 0) ::close(log_fd_);
}

Status DecisionStore::SyncLog() {
  if (::fdatasync(log_fd_) != 0) {
    return Status::Unavailable(std::string("decision log: fdatasync of the WAL failed: ") + std::strerror(errno));
  }
  return Status::Ok();
}

Result<DecisionStore::IngestResult> DecisionStore::Ingest(const BatchSource& source, const json& entries) {
  const std::string_view instance_id = source.instance_id;
  if (!entries.is_array()) return Status::InvalidArgument("entries: must be an array");
  std::vector<DecisionRow> rows;
  std::vector<std::string> bodies;  // the rows' bodies: each entry written back out as text
  rows.reserve(entries.size());
  bodies.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const json& entry = entries[i];
    std::string where = "entries[" + std::to_string(i) + "].";
    if (!entry.is_object()) return Status::InvalidArgument(where.substr(0, where.size() - 1) + ": must be an object");
    if (auto id = entry.find("instance_id");
        id != entry.end() && (!id->is_string() || id->get_ref<const std::string&>() != instance_id)) {
      return Status::InvalidArgument(where + "instance_id: differs from the batch's");
    }
    auto sequence = entry.find("sequence");
    if (sequence == entry.end() || !sequence->is_number_unsigned() || sequence->get<uint64_t>() == 0) {
      return Status::InvalidArgument(where + "sequence: required, a positive integer");
    }
    auto time = entry.find("time");
    if (time == entry.end() || !time->is_string()) return Status::InvalidArgument(where + "time: required, RFC 3339");
    auto time_ns = ParseRfc3339Nanos(time->get_ref<const std::string&>());
    if (!time_ns.ok()) return Status::InvalidArgument(where + "time: " + time_ns.status().message());
    DecisionRow row;
    WARDEN_RETURN_IF_ERROR(EntityFields(entry, "subject", where, row.subject_type, row.subject_id));
    WARDEN_RETURN_IF_ERROR(EntityFields(entry, "resource", where, row.resource_type, row.resource_id));
    auto action = entry.find("action");
    if (action == entry.end() || !action->is_string()) return Status::InvalidArgument(where + "action: required, a string");
    auto decision = entry.find("decision");
    if (decision == entry.end() || (*decision != "allow" && *decision != "deny")) {
      return Status::InvalidArgument(where + "decision: required, \"allow\" or \"deny\"");
    }
    if (auto api = entry.find("api"); api != entry.end()) {
      if (!api->is_string()) return Status::InvalidArgument(where + "api: a string");
      row.api = api->get_ref<const std::string&>();
    }
    row.sequence = sequence->get<uint64_t>();
    row.time_ns = *time_ns;
    row.action = action->get_ref<const std::string&>();
    row.allowed = *decision == "allow";
    bodies.push_back(entry.dump());
    rows.push_back(row);
  }
  for (size_t i = 0; i < rows.size(); ++i) rows[i].body = bodies[i];
  return IngestRows(source, rows);
}

namespace {

// Rows per INSERT statement. One statement per row cost SQLite as much again as the row's own
// work (opening and closing a cursor on the table and each index, halting, clearing bindings);
// a statement of many rows pays that once. The batch's instance, key and ingest time are bound
// once (?1-?3) and each row binds 8 more: 32 rows bind 259 parameters, far below SQLite's limit.
constexpr size_t kRowsPerInsert = 32;
constexpr int kRowColumns = 8;

// An empty view may have no data pointer, which SQLite binds as NULL, and a NULL in a NOT NULL
// column makes INSERT OR IGNORE skip the row silently: empty text is bound as "".
std::string_view Text(std::string_view text) { return text.data() ? text : std::string_view(""); }

std::string InsertSql(size_t rows) {
  std::string sql =
      "INSERT OR IGNORE INTO decisions(instance_id, key_id, ingested_ns, sequence, time_ns, api, subject, action, "
      "resource, allowed, body) VALUES ";
  for (size_t row = 0; row < rows; ++row) {
    sql += row == 0 ? "(?1,?2,?3" : ",(?1,?2,?3";
    for (int column = 1; column <= kRowColumns; ++column) {
      sql += ",?" + std::to_string(3 + row * kRowColumns + column);
    }
    sql += ')';
  }
  return sql;
}

}  // namespace

Result<DecisionStore::IngestResult> DecisionStore::IngestRows(const BatchSource& source,
                                                              const std::vector<DecisionRow>& rows) {
  PendingBatch mine{source, &rows};
  std::unique_lock lock(group_mutex_);
  waiting_.push_back(&mine);
  // The first to find no group being stored leads: it stores what waits (its own batch and any
  // that came meanwhile) in one transaction, hands the lead on, fsyncs, and wakes the callers.
  while (!mine.done) {
    if (committing_ || mine.taken) {  // a group is being stored, or ours is and waits for the disk
      group_done_.wait(lock);
      continue;
    }
    committing_ = true;
    std::vector<PendingBatch*> group;
    group.swap(waiting_);
    for (PendingBatch* batch : group) batch->taken = true;
    lock.unlock();
    Status status = InsertGroup(group);
    lock.lock();
    committing_ = false;  // the next group may be stored while this one waits for the disk
    group_done_.notify_all();
    lock.unlock();
    if (status.ok()) status = SyncLog();
    lock.lock();
    for (PendingBatch* batch : group) {
      if (!status.ok()) batch->result = status;  // not acknowledged: the edge sends it again
      batch->done = true;
    }
    group_done_.notify_all();
  }
  return std::move(mine.result);
}

Status DecisionStore::InsertGroup(const std::vector<PendingBatch*>& group) {
  static const std::string kInsertMany = InsertSql(kRowsPerInsert);
  static const std::string kInsertOne = InsertSql(1);
  // "type:id" of each row of a statement, alive until it ran (bindings copy, but only then).
  std::vector<std::string> subjects(kRowsPerInsert), resources(kRowsPerInsert);
  std::vector<IngestResult> results(group.size());
  std::vector<Status> refusals(group.size(), Status::Ok());
  uint64_t stored_in_all = 0, dropped_in_all = 0;
  std::lock_guard lock(mutex_);
  // Bindings made in this transaction are in groups_ already (a later batch of the group must see
  // them); should it roll back, they are taken out again.
  std::vector<std::string> bound;
  struct Unbind {
    std::unordered_map<std::string, std::string>& groups;
    std::vector<std::string>& bound;
    bool committed = false;
    ~Unbind() {
      if (committed) return;
      for (const auto& instance : bound) groups.erase(instance);
    }
  } unbind{groups_, bound};
  auto transaction = sqlite::Transaction::Begin(db_);
  if (!transaction.ok()) return transaction.status();
  int64_t now = UnixNanosNow();
  for (size_t b = 0; b < group.size(); ++b) {
    const PendingBatch& batch = *group[b];
    const BatchSource& source = batch.source;
    const std::vector<DecisionRow>& rows = *batch.rows;
    IngestResult& result = results[b];
    auto owner = GroupOf(source.instance_id, source.key_group, bound);
    if (!owner.ok()) return owner.status();
    if (*owner != source.key_group) {
      refusals[b] = Status::PermissionDenied("instance_id: " + std::string(source.instance_id) +
                                             " belongs to another edge group; its entries are taken only from that "
                                             "group's keys");
      continue;
    }
    size_t at = 0;
    while (at < rows.size()) {
      size_t count = rows.size() - at >= kRowsPerInsert ? kRowsPerInsert : 1;
      auto insert = db_.Cached(count == kRowsPerInsert ? kInsertMany : kInsertOne);
      if (!insert.ok()) return insert.status();
      sqlite::Statement& statement = **insert;
      statement.Bind(1, Text(source.instance_id)).Bind(2, Text(source.key_id)).Bind(3, now);
      for (size_t i = 0; i < count; ++i) {
        const DecisionRow& row = rows[at + i];
        int base = 3 + static_cast<int>(i) * kRowColumns;
        subjects[i].assign(row.subject_type).append(1, ':').append(row.subject_id);
        resources[i].assign(row.resource_type).append(1, ':').append(row.resource_id);
        statement.Bind(base + 1, static_cast<int64_t>(row.sequence)).Bind(base + 2, row.time_ns)
            .Bind(base + 3, Text(row.api)).Bind(base + 4, subjects[i]).Bind(base + 5, Text(row.action))
            .Bind(base + 6, resources[i]).Bind(base + 7, static_cast<int64_t>(row.allowed))
            .Bind(base + 8, Text(row.body));
        result.through = std::max(result.through, row.sequence);
      }
      WARDEN_RETURN_IF_ERROR(statement.Run());
      // A row whose (instance, sequence) is already stored is ignored: a resent batch.
      size_t stored = static_cast<size_t>(db_.changes());
      result.stored += stored;
      result.duplicates += count - stored;
      at += count;
    }
    if (source.dropped > 0) {
      auto drop = db_.Cached("INSERT INTO drops(instance_id, reported_ns, count, damaged) VALUES (?1, ?2, ?3, ?4)");
      if (!drop.ok()) return drop.status();
      (*drop)->Bind(1, Text(source.instance_id)).Bind(2, now).Bind(3, static_cast<int64_t>(source.dropped))
          .Bind(4, static_cast<int64_t>(std::min(source.damaged, source.dropped)));
      WARDEN_RETURN_IF_ERROR((*drop)->Run());
    }
    stored_in_all += result.stored;
    dropped_in_all += source.dropped;
  }
  WARDEN_RETURN_IF_ERROR(transaction->Commit());
  unbind.committed = true;
  count_ += stored_in_all;
  dropped_reported_ += dropped_in_all;
  for (size_t b = 0; b < group.size(); ++b) {
    if (refusals[b].ok()) {
      group[b]->result = results[b];
    } else {
      group[b]->result = refusals[b];
    }
  }
  return Status::Ok();
}

Result<std::string> DecisionStore::GroupOf(std::string_view instance_id, std::string_view key_group,
                                           std::vector<std::string>& bound) {
  std::string instance(instance_id);
  if (auto found = groups_.find(instance); found != groups_.end()) return found->second;
  auto bind = db_.Cached("INSERT INTO instance_groups(instance_id, key_group, bound_ns) VALUES (?1, ?2, ?3)");
  if (!bind.ok()) return bind.status();
  (*bind)->Bind(1, instance_id).Bind(2, Text(key_group)).Bind(3, UnixNanosNow());
  WARDEN_RETURN_IF_ERROR((*bind)->Run());
  groups_.emplace(instance, std::string(key_group));
  bound.push_back(std::move(instance));
  return std::string(key_group);
}

Status DecisionStore::BindInstance(std::string_view instance_id, std::string_view key_group) {
  std::lock_guard lock(mutex_);
  if (auto found = groups_.find(std::string(instance_id)); found != groups_.end()) {
    if (found->second == key_group) return Status::Ok();
    return Status::PermissionDenied("instance_id: " + std::string(instance_id) + " belongs to another edge group");
  }
  std::vector<std::string> bound;
  auto transaction = sqlite::Transaction::Begin(db_);
  if (!transaction.ok()) return transaction.status();
  auto owner = GroupOf(instance_id, key_group, bound);
  Status committed = owner.ok() ? transaction->Commit() : owner.status();
  if (!committed.ok()) {
    for (const auto& instance : bound) groups_.erase(instance);
    return committed;
  }
  return Status::Ok();
}

Status DecisionStore::DropsByInstance(std::unordered_map<std::string, Drops>& out) {
  std::lock_guard lock(mutex_);
  auto select = db_.Prepare("SELECT instance_id, sum(count), sum(damaged) FROM drops GROUP BY instance_id");
  if (!select.ok()) return select.status();
  out.clear();
  while (true) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out[select->ColumnText(0)] = {static_cast<uint64_t>(select->ColumnInt(1)),
                                  static_cast<uint64_t>(select->ColumnInt(2))};
  }
  return Status::Ok();
}

Result<DecisionPage> DecisionStore::Query(const DecisionQuery& query) {
  std::string sql = "SELECT id, time_ns, ingested_ns, body FROM decisions WHERE time_ns >= ?1 AND time_ns < ?2";
  std::vector<std::string> texts;
  auto filter = [&](const char* column, const std::string& value) {
    if (value.empty()) return;
    texts.push_back(value);
    sql += std::string(" AND ") + column + " = ?" + std::to_string(texts.size() + 2);
  };
  filter("instance_id", query.edge);
  filter("subject", query.subject);
  filter("resource", query.resource);
  filter("action", query.action);
  if (query.allowed) sql += *query.allowed ? " AND allowed = 1" : " AND allowed = 0";
  int64_t cursor_time = 0, cursor_id = 0;
  if (!query.cursor.empty()) {
    long long t = 0, id = 0;
    char kind = 0;
    int consumed = 0;
    bool ok = std::sscanf(query.cursor.c_str(), "%c%lld.%lld%n", &kind, &t, &id, &consumed) == 3 &&
              consumed == static_cast<int>(query.cursor.size()) && kind == (query.ascending ? 'a' : 'd');
    if (!ok) return Status::InvalidArgument("cursor: not a cursor of this listing");
    cursor_time = t;
    cursor_id = id;
    // Newest first pages by (time, id) so the subject, resource and action indexes serve the order;
    // ingest order pages by id.
    sql += query.ascending ? " AND id > " + std::to_string(cursor_id)
                           : " AND (time_ns < " + std::to_string(cursor_time) + " OR (time_ns = " +
                                 std::to_string(cursor_time) + " AND id < " + std::to_string(cursor_id) + "))";
  }
  sql += query.ascending ? " ORDER BY id ASC" : " ORDER BY time_ns DESC, id DESC";
  sql += " LIMIT " + std::to_string(query.limit + 1);
  std::lock_guard lock(mutex_);
  auto select = db_.Prepare(sql);
  if (!select.ok()) return select.status();
  select->Bind(1, query.from_ns).Bind(2, query.to_ns);
  for (size_t i = 0; i < texts.size(); ++i) select->Bind(static_cast<int>(i + 3), texts[i]);
  DecisionPage page;
  int64_t last_id = 0, last_time = 0;
  while (true) {
    auto row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (page.entries.size() == query.limit) {
      page.next_cursor = (query.ascending ? "a0." : "d" + std::to_string(last_time) + ".") + std::to_string(last_id);
      break;
    }
    last_id = select->ColumnInt(0);
    last_time = select->ColumnInt(1);
    json entry = json::parse(select->ColumnText(3), nullptr, false);
    if (entry.is_discarded()) entry = json::object();
    entry["id"] = last_id;
    entry["ingested"] = Rfc3339Nanos(select->ColumnInt(2));
    page.entries.push_back(std::move(entry));
  }
  return page;
}

Result<uint64_t> DecisionStore::EnforceRetention(int64_t max_age_ns, uint64_t max_rows) {
  std::lock_guard lock(mutex_);
  uint64_t deleted = 0;
  if (max_age_ns > 0) {
    auto old = db_.Prepare("DELETE FROM decisions WHERE time_ns < ?1");
    if (!old.ok()) return old.status();
    old->Bind(1, UnixNanosNow() - max_age_ns);
    WARDEN_RETURN_IF_ERROR(old->Run());
    deleted += static_cast<uint64_t>(db_.changes());
  }
  uint64_t remaining = count_ > deleted ? count_ - deleted : 0;
  if (max_rows > 0 && remaining > max_rows) {
    auto oldest = db_.Prepare(
        "DELETE FROM decisions WHERE id IN (SELECT id FROM decisions ORDER BY time_ns, id LIMIT ?1)");
    if (!oldest.ok()) return oldest.status();
    oldest->Bind(1, static_cast<int64_t>(remaining - max_rows));
    WARDEN_RETURN_IF_ERROR(oldest->Run());
    deleted += static_cast<uint64_t>(db_.changes());
  }
  count_ = count_ > deleted ? count_ - deleted : 0;
  return deleted;
}

uint64_t DecisionStore::count() const { return count_.load(); }

uint64_t DecisionStore::dropped_reported() const { return dropped_reported_.load(); }

}  // namespace warden::control_plane
