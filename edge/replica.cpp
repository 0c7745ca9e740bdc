#include "edge/replica.h"

#include <filesystem>
#include <random>

#include <openssl/rand.h>
#include <sqlite3.h>

#include "common/directory/data_json.h"

namespace warden::edge {
namespace {

constexpr int kSchemaVersion = 1;

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr); }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return statement_ != nullptr; }
  sqlite3_stmt* get() { return statement_; }
  Statement& Bind(int index, const std::string& text) {
    sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  int Step() { return sqlite3_step(statement_); }
  void Reset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  std::string Column(int index) {
    auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, index));
    return text == nullptr ? std::string() : std::string(text, static_cast<size_t>(sqlite3_column_bytes(statement_, index)));
  }

 private:
  sqlite3_stmt* statement_ = nullptr;
};

Status SqliteError(sqlite3* db, const std::string& what) {
  return Status::Internal("replica: " + what + ": " + sqlite3_errmsg(db));
}

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS policies(path TEXT PRIMARY KEY, text TEXT NOT NULL, sha256 TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS manifest(singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                                    format TEXT NOT NULL, name TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects(type TEXT NOT NULL, id TEXT NOT NULL, display_name TEXT NOT NULL,
                                   properties TEXT NOT NULL, PRIMARY KEY (type, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS relations(object_type TEXT NOT NULL, object_id TEXT NOT NULL, relation TEXT NOT NULL,
                                     subject_type TEXT NOT NULL, subject_id TEXT NOT NULL,
                                     subject_relation TEXT NOT NULL,
                                     PRIMARY KEY (object_type, object_id, relation, subject_type, subject_id,
                                                  subject_relation)) WITHOUT ROWID;
)sql";

bool QuickCheckPasses(sqlite3* db) {
  Statement check(db, "PRAGMA quick_check");
  if (!check.ok()) return false;
  return check.Step() == SQLITE_ROW && check.Column(0) == "ok";
}

}  // namespace

std::string NewUuid() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    std::random_device device;
    for (auto& byte : bytes) byte = static_cast<unsigned char>(device());
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);
  static const char* kHex = "0123456789abcdef";
  std::string uuid;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) uuid.push_back('-');
    uuid.push_back(kHex[bytes[i] >> 4]);
    uuid.push_back(kHex[bytes[i] & 0xf]);
  }
  return uuid;
}

Result<std::unique_ptr<Replica>> Replica::Open(const std::string& path) {
  bool discarded = false;
  for (int attempt = 0; attempt < 2; ++attempt) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    bool healthy = rc == SQLITE_OK && QuickCheckPasses(db);
    if (healthy) {
      std::unique_ptr<Replica> replica(new Replica(db));
      replica->discarded_ = discarded;
      Status initialized = replica->Initialize();
      if (initialized.ok()) return replica;
      if (attempt == 1) return initialized;
    } else {
      sqlite3_close(db);
      if (attempt == 1) return Status::Internal("replica: cannot create a database at " + path);
    }
    // Damaged: set it aside (kept for inspection) and start empty; sync will send a snapshot.
    std::error_code error;
    std::filesystem::rename(path, path + ".corrupt", error);
    std::filesystem::remove(path + "-wal", error);
    std::filesystem::remove(path + "-shm", error);
    discarded = true;
  }
  return Status::Internal("replica: cannot open " + path);
}

Replica::~Replica() { sqlite3_close(db_); }

Status Replica::Execute(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return Status::Internal(std::string("replica: ") + text);
  }
  return Status::Ok();
}

Status Replica::Initialize() {
  sqlite3_busy_timeout(db_, 5000);
  WARDEN_RETURN_IF_ERROR(Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"));
  WARDEN_RETURN_IF_ERROR(Execute(kSchema));
  Statement read(db_, "SELECT key, value FROM meta");
  if (!read.ok()) return SqliteError(db_, "reading meta");
  while (read.Step() == SQLITE_ROW) {
    std::string key = read.Column(0);
    if (key == "instance_id") instance_id_ = read.Column(1);
    if (key == "store_id") store_id_ = read.Column(1);
    if (key == "revision") revision_ = std::stoull(read.Column(1));
    if (key == "schema" && std::stoi(read.Column(1)) > kSchemaVersion) {
      return Status::FailedPrecondition("replica: schema version " + read.Column(1) + " is newer than this binary");
    }
  }
  if (instance_id_.empty()) {
    instance_id_ = NewUuid();
    WARDEN_RETURN_IF_ERROR(Execute("BEGIN IMMEDIATE"));
    Status written = SetMeta("instance_id", instance_id_);
    if (written.ok()) written = SetMeta("schema", std::to_string(kSchemaVersion));
    WARDEN_RETURN_IF_ERROR(Execute(written.ok() ? "COMMIT" : "ROLLBACK"));
    return written;
  }
  return Status::Ok();
}

Status Replica::SetMeta(const std::string& key, const std::string& value) {
  Statement upsert(db_, "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!upsert.ok() || upsert.Bind(1, key).Bind(2, value).Step() != SQLITE_DONE) return SqliteError(db_, "writing meta");
  return Status::Ok();
}

Status Replica::WriteOp(const protocol::DeltaOp& op) {
  using Kind = protocol::DeltaOp::Kind;
  const char* sql = nullptr;
  switch (op.kind) {
    case Kind::kObjectSet:
      sql = "INSERT INTO objects(type, id, display_name, properties) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(type, id) DO UPDATE SET display_name = excluded.display_name, properties = excluded.properties";
      break;
    case Kind::kObjectDelete: sql = "DELETE FROM objects WHERE type = ? AND id = ?"; break;
    case Kind::kRelationSet: sql = "INSERT OR IGNORE INTO relations VALUES (?, ?, ?, ?, ?, ?)"; break;
    case Kind::kRelationDelete:
      sql = "DELETE FROM relations WHERE object_type = ? AND object_id = ? AND relation = ? AND subject_type = ? "
            "AND subject_id = ? AND subject_relation = ?";
      break;
    case Kind::kManifestSet:
      sql = "INSERT INTO manifest(singleton, format, name, text) VALUES (1, ?, ?, ?) ON CONFLICT(singleton) DO UPDATE "
            "SET format = excluded.format, name = excluded.name, text = excluded.text";
      break;
    case Kind::kPolicySet:
      sql = "INSERT INTO policies(path, text, sha256) VALUES (?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
            "text = excluded.text, sha256 = excluded.sha256";
      break;
    case Kind::kPolicyDelete: sql = "DELETE FROM policies WHERE path = ?"; break;
  }
  Statement statement(db_, sql);
  if (!statement.ok()) return SqliteError(db_, "preparing a write");
  switch (op.kind) {
    case Kind::kObjectSet:
      statement.Bind(1, op.object.type).Bind(2, op.object.id).Bind(3, op.object.display_name).Bind(4, op.object.properties.dump());
      break;
    case Kind::kObjectDelete: statement.Bind(1, op.object.type).Bind(2, op.object.id); break;
    case Kind::kRelationSet:
    case Kind::kRelationDelete: {
      const auto& r = op.relation;
      statement.Bind(1, r.object_type).Bind(2, r.object_id).Bind(3, r.relation).Bind(4, r.subject_type)
          .Bind(5, r.subject_id).Bind(6, r.subject_relation);
      break;
    }
    case Kind::kManifestSet:
      statement.Bind(1, op.manifest.format == directory::ManifestSource::Format::kZed ? "zed" : "yaml")
          .Bind(2, op.manifest.name).Bind(3, op.manifest.text);
      break;
    case Kind::kPolicySet:
      statement.Bind(1, op.policy.path).Bind(2, op.policy.text).Bind(3, protocol::Sha256Hex(op.policy.text));
      break;
    case Kind::kPolicyDelete: statement.Bind(1, op.policy.path); break;
  }
  if (statement.Step() != SQLITE_DONE) return SqliteError(db_, std::string("applying ") + std::string(OpName(op.kind)));
  return Status::Ok();
}

Status Replica::ApplyRevision(uint64_t revision, const std::vector<protocol::DeltaOp>& ops) {
  if (revision != revision_ + 1) {
    return Status::FailedPrecondition("replica holds revision " + std::to_string(revision_) + ", cannot apply " +
                                      std::to_string(revision));
  }
  WARDEN_RETURN_IF_ERROR(Execute("BEGIN IMMEDIATE"));
  Status written;
  for (const auto& op : ops) {
    written = WriteOp(op);
    if (!written.ok()) break;
  }
  if (written.ok()) written = SetMeta("revision", std::to_string(revision));
  if (!written.ok()) {
    (void)Execute("ROLLBACK");
    return written;
  }
  WARDEN_RETURN_IF_ERROR(Execute("COMMIT"));
  revision_ = revision;
  return Status::Ok();
}

Status Replica::ReplaceWith(const Snapshot& snapshot) {
  WARDEN_RETURN_IF_ERROR(Execute("BEGIN IMMEDIATE"));
  auto write_all = [&]() -> Status {
    WARDEN_RETURN_IF_ERROR(Execute("DELETE FROM policies; DELETE FROM manifest; DELETE FROM objects; DELETE FROM relations;"));
    for (const auto& source : *snapshot.policy_sources) {
      WARDEN_RETURN_IF_ERROR(WriteOp(protocol::DeltaOp::SetPolicy(source.path, source.text)));
    }
    if (const auto& manifest = snapshot.directory->manifest_source()) {
      WARDEN_RETURN_IF_ERROR(WriteOp(protocol::DeltaOp::SetManifest(*manifest)));
    }
    Statement object(db_, "INSERT INTO objects(type, id, display_name, properties) VALUES (?, ?, ?, ?)");
    std::string cursor;
    do {
      auto page = snapshot.directory->ListObjects("", 10000, cursor);
      if (!page.ok()) return page.status();
      for (const auto& o : page->objects) {
        object.Bind(1, o.type).Bind(2, o.id).Bind(3, o.display_name).Bind(4, o.properties.dump());
        if (object.Step() != SQLITE_DONE) return SqliteError(db_, "writing objects");
        object.Reset();
      }
      cursor = page->next_cursor;
    } while (!cursor.empty());
    Statement relation(db_, "INSERT OR IGNORE INTO relations VALUES (?, ?, ?, ?, ?, ?)");
    do {
      auto page = snapshot.directory->ListRelations({}, 10000, cursor);
      if (!page.ok()) return page.status();
      for (const auto& r : page->relations) {
        relation.Bind(1, r.object_type).Bind(2, r.object_id).Bind(3, r.relation).Bind(4, r.subject_type)
            .Bind(5, r.subject_id).Bind(6, r.subject_relation);
        if (relation.Step() != SQLITE_DONE) return SqliteError(db_, "writing relations");
        relation.Reset();
      }
      cursor = page->next_cursor;
    } while (!cursor.empty());
    WARDEN_RETURN_IF_ERROR(SetMeta("store_id", snapshot.store_id));
    return SetMeta("revision", std::to_string(snapshot.revision));
  };
  Status written = write_all();
  if (!written.ok()) {
    (void)Execute("ROLLBACK");
    return written;
  }
  WARDEN_RETURN_IF_ERROR(Execute("COMMIT"));
  store_id_ = snapshot.store_id;
  revision_ = snapshot.revision;
  return Status::Ok();
}

Result<std::shared_ptr<const Snapshot>> Replica::Load() const {
  if (revision_ == 0) return std::shared_ptr<const Snapshot>();
  std::optional<directory::ManifestSource> manifest;
  {
    Statement read(db_, "SELECT format, name, text FROM manifest");
    if (read.Step() == SQLITE_ROW) {
      manifest = directory::ManifestSource{
          read.Column(0) == "zed" ? directory::ManifestSource::Format::kZed : directory::ManifestSource::Format::kYaml,
          read.Column(2), read.Column(1)};
    }
  }
  auto builder = directory::DirectorySnapshot::Builder::Create(manifest);
  if (!builder.ok()) return builder.status().WithPrefix("replica manifest");
  {
    Statement read(db_, "SELECT type, id, display_name, properties FROM objects");
    while (read.Step() == SQLITE_ROW) {
      directory::ObjectRecord record{read.Column(0), read.Column(1), read.Column(2),
                                     nlohmann::json::parse(read.Column(3), nullptr, false)};
      if (record.properties.is_discarded()) record.properties = nlohmann::json::object();
      WARDEN_RETURN_IF_ERROR(builder->AddObject(std::move(record)));
    }
  }
  {
    Statement read(db_, "SELECT object_type, object_id, relation, subject_type, subject_id, subject_relation FROM relations");
    while (read.Step() == SQLITE_ROW) {
      WARDEN_RETURN_IF_ERROR(builder->AddRelation(
          {read.Column(0), read.Column(1), read.Column(2), read.Column(3), read.Column(4), read.Column(5)}));
    }
  }
  std::vector<policy::SourceDocument> sources;
  {
    Statement read(db_, "SELECT path, text, sha256 FROM policies ORDER BY path");
    while (read.Step() == SQLITE_ROW) {
      if (protocol::Sha256Hex(read.Column(1)) != read.Column(2)) {
        return Status::FailedPrecondition("replica policy " + read.Column(0) + " does not match its hash");
      }
      sources.push_back({read.Column(0), read.Column(1)});
    }
  }
  return MakeSnapshot(std::move(sources), builder->Build(revision_), revision_, store_id_);
}

}  // namespace warden::edge
