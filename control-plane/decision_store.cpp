#include "control-plane/decision_store.h"

#include "common/util/time_format.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>

namespace warden::control_plane {

using nlohmann::json;

namespace {

constexpr const char* kSchema = R"sql(
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
)sql";



Result<std::string> EntityKey(const json& entry, const char* field, const std::string& where) {
  auto it = entry.find(field);
  if (it == entry.end() || !it->is_object()) return Status::InvalidArgument(where + field + ": required, an object");
  auto type = it->find("type");
  auto id = it->find("id");
  if (type == it->end() || !type->is_string() || id == it->end() || !id->is_string()) {
    return Status::InvalidArgument(where + field + ": needs string type and id");
  }
  return type->get<std::string>() + ":" + id->get<std::string>();
}

}  // namespace

Result<int64_t> ParseRfc3339Nanos(const std::string& text) {
  int year, month, day, hour, minute, second;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second,
                  &consumed) != 6 || consumed != 19) {
    return Status::InvalidArgument("'" + text + "' is not an RFC 3339 time");
  }
  size_t at = 19;
  int64_t fraction_ns = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    int digits = 0;
    while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) {
      if (digits < 9) {
        fraction_ns = fraction_ns * 10 + (text[at] - '0');
        ++digits;
      }
      ++at;
    }
    if (digits == 0) return Status::InvalidArgument("'" + text + "' has an empty fraction");
    while (digits++ < 9) fraction_ns *= 10;
  }
  int64_t offset_seconds = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at + 6 == text.size() && (text[at] == '+' || text[at] == '-') && text[at + 3] == ':') {
    int hours = std::atoi(text.substr(at + 1, 2).c_str());
    int minutes = std::atoi(text.substr(at + 4, 2).c_str());
    offset_seconds = (text[at] == '+' ? 1 : -1) * (hours * 3600 + minutes * 60);
    at += 6;
  } else {
    return Status::InvalidArgument("'" + text + "' needs a time zone (Z or +hh:mm)");
  }
  if (at != text.size()) return Status::InvalidArgument("'" + text + "' has trailing characters");
  std::tm utc{};
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  int64_t seconds = static_cast<int64_t>(timegm(&utc)) - offset_seconds;
  // Nanoseconds since 1970 in an int64 reach only from 1677 to 2262.
  constexpr int64_t kLimit = std::numeric_limits<int64_t>::max() / 1'000'000'000 - 1;
  if (seconds < -kLimit || seconds > kLimit) {
    return Status::InvalidArgument("'" + text + "' is outside the years 1678 to 2261");
  }
  return seconds * 1'000'000'000 + fraction_ns;
}

Result<std::unique_ptr<DecisionStore>> DecisionStore::Open(const std::string& path) {
  auto db = sqlite::Database::Open(path, /*create=*/true);
  if (!db.ok()) return db.status();
  std::unique_ptr<DecisionStore> store(new DecisionStore(std::move(*db)));
  WARDEN_RETURN_IF_ERROR(
      store->db_.Exec("PRAGMA busy_timeout=5000; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"));
  WARDEN_RETURN_IF_ERROR(store->db_.Exec(kSchema));
  auto count = store->db_.Prepare("SELECT (SELECT count(*) FROM decisions), (SELECT coalesce(sum(count), 0) FROM drops)");
  if (!count.ok()) return count.status();
  auto row = count->Step();
  if (!row.ok()) return row.status();
  store->count_ = static_cast<uint64_t>(count->ColumnInt(0));
  store->dropped_reported_ = static_cast<uint64_t>(count->ColumnInt(1));
  return store;
}

Result<DecisionStore::IngestResult> DecisionStore::Ingest(const std::string& instance_id, const std::string& key_id,
                                                          const json& entries, uint64_t dropped) {
  if (!entries.is_array()) return Status::InvalidArgument("entries: must be an array");
  struct Row {
    uint64_t sequence;
    int64_t time_ns;
    std::string api, subject, action, resource, body;
    bool allowed;
  };
  std::vector<Row> rows;
  rows.reserve(entries.size());
  IngestResult result;
  for (size_t i = 0; i < entries.size(); ++i) {
    const json& entry = entries[i];
    std::string where = "entries[" + std::to_string(i) + "].";
    if (!entry.is_object()) return Status::InvalidArgument(where.substr(0, where.size() - 1) + ": must be an object");
    if (entry.value("instance_id", instance_id) != instance_id) {
      return Status::InvalidArgument(where + "instance_id: differs from the batch's");
    }
    auto sequence = entry.find("sequence");
    if (sequence == entry.end() || !sequence->is_number_unsigned() || sequence->get<uint64_t>() == 0) {
      return Status::InvalidArgument(where + "sequence: required, a positive integer");
    }
    auto time = entry.find("time");
    if (time == entry.end() || !time->is_string()) return Status::InvalidArgument(where + "time: required, RFC 3339");
    auto time_ns = ParseRfc3339Nanos(time->get<std::string>());
    if (!time_ns.ok()) return Status::InvalidArgument(where + "time: " + time_ns.status().message());
    auto subject = EntityKey(entry, "subject", where);
    if (!subject.ok()) return subject.status();
    auto resource = EntityKey(entry, "resource", where);
    if (!resource.ok()) return resource.status();
    auto action = entry.find("action");
    if (action == entry.end() || !action->is_string()) return Status::InvalidArgument(where + "action: required, a string");
    auto decision = entry.find("decision");
    if (decision == entry.end() || (*decision != "allow" && *decision != "deny")) {
      return Status::InvalidArgument(where + "decision: required, \"allow\" or \"deny\"");
    }
    rows.push_back({sequence->get<uint64_t>(), *time_ns, entry.value("api", std::string()), *subject,
                    action->get<std::string>(), *resource, entry.dump(), *decision == "allow"});
    result.through = std::max(result.through, rows.back().sequence);
  }
  std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::Begin(db_);
  if (!transaction.ok()) return transaction.status();
  auto insert = db_.Prepare(
      "INSERT OR IGNORE INTO decisions(instance_id, sequence, time_ns, ingested_ns, key_id, api, subject, action, "
      "resource, allowed, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  if (!insert.ok()) return insert.status();
  int64_t now = UnixNanosNow();
  for (const auto& row : rows) {
    insert->Bind(1, instance_id).Bind(2, static_cast<int64_t>(row.sequence)).Bind(3, row.time_ns).Bind(4, now)
        .Bind(5, key_id).Bind(6, row.api).Bind(7, row.subject).Bind(8, row.action).Bind(9, row.resource)
        .Bind(10, static_cast<int64_t>(row.allowed)).Bind(11, row.body);
    WARDEN_RETURN_IF_ERROR(insert->Run());
    insert->Reset();
    if (db_.changes() > 0) {
      ++result.stored;
    } else {
      ++result.duplicates;  // (instance, sequence) already stored: a resent batch
    }
  }
  if (dropped > 0) {
    auto drop = db_.Prepare("INSERT INTO drops(instance_id, reported_ns, count) VALUES (?1, ?2, ?3)");
    if (!drop.ok()) return drop.status();
    drop->Bind(1, instance_id).Bind(2, now).Bind(3, static_cast<int64_t>(dropped));
    WARDEN_RETURN_IF_ERROR(drop->Run());
  }
  WARDEN_RETURN_IF_ERROR(transaction->Commit());
  count_ += result.stored;
  dropped_reported_ += dropped;
  return result;
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

uint64_t DecisionStore::count() const {
  std::lock_guard lock(mutex_);
  return count_;
}

uint64_t DecisionStore::dropped_reported() const {
  std::lock_guard lock(mutex_);
  return dropped_reported_;
}

}  // namespace warden::control_plane
