#include "control-plane/store/schema.h"

#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

namespace warden::control_plane {
namespace {

struct Migration {
  int version;
  const char* summary;
  const char* sql;
};

// Never edit a migration that has shipped: databases in the field were made by it. Add a new one.
constexpr Migration kMigrations[] = {
    {1, "initial schema", R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE change_log (
  revision   INTEGER PRIMARY KEY,
  ops        TEXT NOT NULL,
  author     TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE manifest (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  format TEXT NOT NULL CHECK (format IN ('yaml', 'zed')),
  name   TEXT NOT NULL,
  text   TEXT NOT NULL,
  sha256 TEXT NOT NULL);
CREATE TABLE policies (path TEXT PRIMARY KEY, text TEXT NOT NULL, sha256 TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE policy_sets (
  revision   INTEGER PRIMARY KEY REFERENCES change_log(revision),
  sha256     TEXT NOT NULL,
  author     TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE policy_set_files (
  revision INTEGER NOT NULL REFERENCES policy_sets(revision) ON DELETE CASCADE,
  path     TEXT NOT NULL,
  text     TEXT NOT NULL,
  sha256   TEXT NOT NULL,
  PRIMARY KEY (revision, path)) WITHOUT ROWID;
CREATE TABLE objects (
  type         TEXT NOT NULL,
  id           TEXT NOT NULL,
  display_name TEXT NOT NULL,
  properties   TEXT NOT NULL,
  PRIMARY KEY (type, id)) WITHOUT ROWID;
CREATE TABLE relations (
  object_type      TEXT NOT NULL,
  object_id        TEXT NOT NULL,
  relation         TEXT NOT NULL,
  subject_type     TEXT NOT NULL,
  subject_id       TEXT NOT NULL,
  subject_relation TEXT NOT NULL,
  PRIMARY KEY (object_type, object_id, relation, subject_type, subject_id, subject_relation)) WITHOUT ROWID;
CREATE TABLE api_keys (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  sha256     TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE admin_tokens (
  id         TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  scope      TEXT NOT NULL CHECK (scope IN ('read', 'write')),
  sha256     TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL) WITHOUT ROWID;
)sql"},
    {2, "policy-set tags and edges", R"sql(
CREATE TABLE policy_set_tags (
  tag        TEXT PRIMARY KEY,
  revision   INTEGER NOT NULL REFERENCES policy_sets(revision),
  created_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE edges (
  instance_id   TEXT PRIMARY KEY,
  key_id        TEXT NOT NULL,
  address       TEXT NOT NULL,
  version       TEXT NOT NULL,
  revision      INTEGER NOT NULL,
  state         TEXT NOT NULL,
  last_seen     INTEGER NOT NULL) WITHOUT ROWID;
)sql"},
};

Result<bool> HasTables(sqlite::Database& db) {
  auto stmt = db.Prepare("SELECT count(*) FROM sqlite_master");
  if (!stmt.ok()) return stmt.status();
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  return stmt->ColumnInt(0) > 0;
}

}  // namespace

std::string NewUuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("RAND_bytes failed");  // a broken RNG is a bug
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  char text[37];
  std::snprintf(text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return text;
}

Status ConfigureConnection(sqlite::Database& db) {
  // WAL lets readers run beside the writer; synchronous=FULL makes every commit durable on
  // power loss, which the revision counter promises to edges.
  WARDEN_RETURN_IF_ERROR(db.Exec("PRAGMA journal_mode=WAL"));
  WARDEN_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous=FULL"));
  WARDEN_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys=ON"));
  WARDEN_RETURN_IF_ERROR(db.Exec("PRAGMA busy_timeout=10000"));
  // Bulk imports insert in key order unrelated to the B-tree's; a cache that holds the hot
  // pages (up to 256 MiB, allocated only as used) keeps them from thrashing to the WAL.
  WARDEN_RETURN_IF_ERROR(db.Exec("PRAGMA cache_size=-262144"));
  WARDEN_RETURN_IF_ERROR(db.Exec("PRAGMA temp_store=MEMORY"));
  return Status::Ok();
}

Status Migrate(sqlite::Database& db, const std::string& path, std::string* backup_path) {
  if (backup_path) backup_path->clear();
  auto version = db.UserVersion();
  if (!version.ok()) return version.status();
  if (*version > kSchemaVersion) {
    return Status::FailedPrecondition("database " + path + " has schema version " + std::to_string(*version) +
                                      ", newer than this binary supports (" + std::to_string(kSchemaVersion) +
                                      "); run a newer warden-control-plane");
  }
  if (*version == kSchemaVersion) return Status::Ok();
  auto has_tables = HasTables(db);
  if (!has_tables.ok()) return has_tables.status();
  if (*has_tables) {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
    std::string backup = path + ".v" + std::to_string(*version) + "-" + std::to_string(now.count()) + ".bak";
    std::error_code ignored;
    std::filesystem::remove(backup, ignored);
    auto stmt = db.Prepare("VACUUM INTO ?1");
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, backup);
    Status status = stmt->Run();
    if (!status.ok()) return status.WithPrefix("backup before migration");
    if (backup_path) *backup_path = backup;
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= *version) continue;
    auto tx = sqlite::Transaction::Begin(db);
    if (!tx.ok()) return tx.status();
    std::string prefix = "migration " + std::to_string(migration.version) + " (" + migration.summary + ")";
    Status status = db.Exec(migration.sql);
    if (!status.ok()) return status.WithPrefix(prefix);
    if (migration.version == 1) {
      auto meta = db.Prepare("INSERT INTO meta(key, value) VALUES ('store_id', ?1), ('revision', '0')");
      if (!meta.ok()) return meta.status();
      meta->Bind(1, NewUuid());
      status = meta->Run();
      if (!status.ok()) return status.WithPrefix(prefix);
    }
    status = db.Exec("PRAGMA user_version = " + std::to_string(migration.version));
    if (!status.ok()) return status.WithPrefix(prefix);
    status = tx->Commit();
    if (!status.ok()) return status.WithPrefix(prefix);
  }
  return Status::Ok();
}

}  // namespace warden::control_plane
