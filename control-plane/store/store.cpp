#include "control-plane/store/store.h"

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/directory/snapshot.h"
#include "control-plane/store/change_log_json.h"
#include "control-plane/store/schema.h"

namespace warden::control_plane {
namespace {

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The identity of a policy set: the hash of its sorted (path, file hash) list.
std::string PolicySetHash(const std::vector<policy::SourceDocument>& files) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (const auto& f : files) entries.emplace_back(f.path, protocol::Sha256Hex(f.text));
  std::sort(entries.begin(), entries.end());
  std::string joined;
  for (const auto& [path, hash] : entries) joined += path + '\0' + hash + '\n';
  return protocol::Sha256Hex(joined);
}

}  // namespace

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    throw std::runtime_error("RAND_bytes failed");  // a broken RNG is a bug, not an input error
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  // A file that is there but empty is more likely a store lost to a failed copy than a place
  // for a new one: SQLite would quietly make it a new, empty store with a new store_id.
  std::error_code error;
  const bool existed = std::filesystem::exists(path, error);
  if (existed && std::filesystem::is_regular_file(path, error) && std::filesystem::file_size(path, error) == 0) {
    return Status::FailedPrecondition("database " + path +
                                      " is an empty (0-byte) file, not a store; restore the store from a backup, "
                                      "or remove the file to create a new store there");
  }
  auto db = sqlite::Database::Open(path, true);
  if (!db.ok()) return db.status();
  WARDEN_RETURN_IF_ERROR(ConfigureConnection(*db));
  if (existed) {
    // Another program's database (a mistyped --db) must not be adopted and given Warden's tables.
    auto version = db->UserVersion();
    if (!version.ok()) return version.status().WithPrefix("database " + path);
    if (*version == 0) {
      auto tables = db->Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'");
      if (!tables.ok()) return tables.status();
      auto row = tables->Step();
      if (!row.ok()) return row.status();
      if (*row && tables->ColumnInt(0) > 0) {
        return Status::FailedPrecondition("database " + path + " is an SQLite database but not a Warden store (it holds " +
                                          std::to_string(tables->ColumnInt(0)) +
                                          " tables of another program); give --db a new path or a Warden store");
      }
    }
  }
  // A damaged file is refused, not served: the snapshot loads from the tables alone, so a damaged
  // change-log page went unnoticed until every write failed on it and edges waited forever.
  if (Status sound = db->QuickCheck(); !sound.ok()) {
    return Status::FailedPrecondition("database " + path + " is damaged (SQLite " + sound.message() +
                                      "); restore it from a backup (wardenctl restore) or recover it with "
                                      "sqlite3's .recover");
  }
  std::unique_ptr<Store> store(new Store());
  WARDEN_RETURN_IF_ERROR(Migrate(*db, path, &store->migration_backup_));
  auto meta = db->Prepare("SELECT key, value FROM meta");
  if (!meta.ok()) return meta.status();
  while (true) {
    auto row = meta->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    std::string key = meta->ColumnText(0);
    if (key == "store_id") store->store_id_ = meta->ColumnText(1);
    if (key == "revision") store->revision_ = std::stoull(meta->ColumnText(1));
    if (key == "compacted_through") store->compacted_through_ = std::stoull(meta->ColumnText(1));
  }
  if (store->store_id_.empty()) return Status::Internal("database " + path + " has no store_id");
  store->path_ = path;
  store->db_.emplace(std::move(*db));
  auto checkpointer = WalCheckpointer::Start(*store->db_, path);
  if (!checkpointer.ok()) return checkpointer.status();
  store->checkpointer_ = std::move(*checkpointer);
  return store;
}

uint64_t Store::revision() const {
  std::lock_guard lock(mutex_);
  return revision_;
}

Result<std::shared_ptr<const Snapshot>> Store::LoadSnapshot(const policy::ExpressionLimits& expression_limits) {
  std::lock_guard lock(mutex_);
  auto& db = *db_;
  // One read transaction so the parts agree with each other and with the revision.
  WARDEN_RETURN_IF_ERROR(db.Exec("BEGIN"));
  struct EndRead {
    sqlite::Database& db;
    ~EndRead() { (void)db.Exec("COMMIT"); }
  } end_read{db};

  std::optional<directory::ManifestSource> manifest;
  {
    auto stmt = db.Prepare("SELECT format, name, text FROM manifest WHERE id = 1");
    if (!stmt.ok()) return stmt.status();
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (*row) {
      directory::ManifestSource source;
      source.format = stmt->ColumnText(0) == "zed" ? directory::ManifestSource::Format::kZed
                                                   : directory::ManifestSource::Format::kYaml;
      source.name = stmt->ColumnText(1);
      source.text = stmt->ColumnText(2);
      manifest = std::move(source);
    }
  }
  auto builder = directory::DirectorySnapshot::Builder::Create(manifest);
  if (!builder.ok()) return builder.status().WithPrefix("stored manifest");
  {
    auto stmt = db.Prepare("SELECT type, id, display_name, properties FROM objects");
    if (!stmt.ok()) return stmt.status();
    while (true) {
      auto row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      directory::ObjectRecord object;
      object.type = stmt->ColumnText(0);
      object.id = stmt->ColumnText(1);
      object.display_name = stmt->ColumnText(2);
      object.properties = nlohmann::json::parse(stmt->ColumnText(3), nullptr, false);
      if (object.properties.is_discarded()) {
        return Status::Internal("stored object " + object.type + ":" + object.id + " has corrupt properties");
      }
      WARDEN_RETURN_IF_ERROR(builder->AddObject(std::move(object)));
    }
  }
  {
    auto stmt = db.Prepare(
        "SELECT object_type, object_id, relation, subject_type, subject_id, subject_relation FROM relations");
    if (!stmt.ok()) return stmt.status();
    directory::RelationTuple r;
    while (true) {
      auto row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      r.object_type = stmt->ColumnText(0);
      r.object_id = stmt->ColumnText(1);
      r.relation = stmt->ColumnText(2);
      r.subject_type = stmt->ColumnText(3);
      r.subject_id = stmt->ColumnText(4);
      r.subject_relation = stmt->ColumnText(5);
      Status status = builder->AddRelation(r);
      if (!status.ok()) return status.WithPrefix("stored relation " + r.ToString());
    }
  }
  std::vector<policy::SourceDocument> policies;
  {
    auto stmt = db.Prepare("SELECT path, text FROM policies ORDER BY path");
    if (!stmt.ok()) return stmt.status();
    while (true) {
      auto row = stmt->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      policies.push_back({stmt->ColumnText(0), stmt->ColumnText(1)});
    }
  }
  auto directory = builder->Build(revision_);
  auto snapshot = MakeSnapshot(std::move(policies), std::move(directory), revision_, store_id_, expression_limits);
  if (!snapshot.ok()) return snapshot.status().WithPrefix("stored policies");
  return snapshot;
}

Status Store::ApplyOp(const protocol::DeltaOp& op) {
  using Kind = protocol::DeltaOp::Kind;
  auto& db = *db_;
  auto run = [&](std::string_view sql, auto&& bind) -> Status {
    auto stmt = db.Cached(sql);
    if (!stmt.ok()) return stmt.status();
    bind(**stmt);
    return (*stmt)->Run();
  };
  switch (op.kind) {
    case Kind::kObjectSet:
      return run(
          "INSERT INTO objects(type, id, display_name, properties) VALUES (?1, ?2, ?3, ?4) "
          "ON CONFLICT(type, id) DO UPDATE SET display_name = excluded.display_name, properties = excluded.properties",
          [&](sqlite::Statement& s) {
            s.Bind(1, op.object.type).Bind(2, op.object.id).Bind(3, op.object.display_name).Bind(4, op.object.properties.dump());
          });
    case Kind::kObjectDelete:
      return run("DELETE FROM objects WHERE type = ?1 AND id = ?2",
                 [&](sqlite::Statement& s) { s.Bind(1, op.object.type).Bind(2, op.object.id); });
    case Kind::kRelationSet:
    case Kind::kRelationDelete: {
      const char* sql = op.kind == Kind::kRelationSet
                            ? "INSERT OR IGNORE INTO relations VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
                            : "DELETE FROM relations WHERE object_type = ?1 AND object_id = ?2 AND relation = ?3 AND "
                              "subject_type = ?4 AND subject_id = ?5 AND subject_relation = ?6";
      const auto& r = op.relation;
      return run(sql, [&](sqlite::Statement& s) {
        s.Bind(1, r.object_type).Bind(2, r.object_id).Bind(3, r.relation).Bind(4, r.subject_type).Bind(5, r.subject_id)
            .Bind(6, r.subject_relation);
      });
    }
    case Kind::kManifestSet:
      return run("INSERT OR REPLACE INTO manifest(id, format, name, text, sha256) VALUES (1, ?1, ?2, ?3, ?4)",
                 [&](sqlite::Statement& s) {
                   s.Bind(1, op.manifest.format == directory::ManifestSource::Format::kZed ? "zed" : "yaml")
                       .Bind(2, op.manifest.name)
                       .Bind(3, op.manifest.text)
                       .Bind(4, protocol::Sha256Hex(op.manifest.text));
                 });
    case Kind::kPolicySet:
      return run("INSERT OR REPLACE INTO policies(path, text, sha256) VALUES (?1, ?2, ?3)", [&](sqlite::Statement& s) {
        s.Bind(1, op.policy.path).Bind(2, op.policy.text).Bind(3, protocol::Sha256Hex(op.policy.text));
      });
    case Kind::kPolicyDelete:
      return run("DELETE FROM policies WHERE path = ?1", [&](sqlite::Statement& s) { s.Bind(1, op.policy.path); });
  }
  return Status::Internal("unknown op kind");
}

Status Store::InsertRelations(const std::vector<protocol::DeltaOp>& ops, size_t begin, size_t end) {
  // Rows go in through statements of kMaxRows, then 32, 16, ... 1 rows: per-statement work
  // (step, halt, reset) was a quarter of what one-row statements spent per relation (callgrind).
  // The strings are bound uncopied: `ops` outlives each statement's run.
  static constexpr size_t kMaxRows = 64;
  static const std::vector<std::string> kSql = [] {
    std::vector<std::string> sql;
    for (size_t rows = 1; rows <= kMaxRows; rows *= 2) {
      std::string text = "INSERT OR IGNORE INTO relations VALUES ";
      for (size_t r = 0; r < rows; ++r) text += r == 0 ? "(?,?,?,?,?,?)" : ",(?,?,?,?,?,?)";
      sql.push_back(std::move(text));
    }
    return sql;
  }();
  size_t i = begin;
  while (i < end) {
    size_t level = kSql.size() - 1;
    while ((size_t{1} << level) > end - i) --level;
    size_t rows = size_t{1} << level;
    auto stmt = db_->Cached(kSql[level]);
    if (!stmt.ok()) return stmt.status();
    int index = 1;
    for (size_t k = 0; k < rows; ++k) {
      const auto& r = ops[i + k].relation;
      (*stmt)->BindUncopied(index, r.object_type).BindUncopied(index + 1, r.object_id)
          .BindUncopied(index + 2, r.relation).BindUncopied(index + 3, r.subject_type)
          .BindUncopied(index + 4, r.subject_id).BindUncopied(index + 5, r.subject_relation);
      index += 6;
    }
    WARDEN_RETURN_IF_ERROR((*stmt)->Run());
    i += rows;
  }
  return Status::Ok();
}

Result<uint64_t> Store::Append(const std::vector<protocol::DeltaOp>& ops, const std::string& author,
                               const std::vector<policy::SourceDocument>* policy_set, std::future<bool>* proceed) {
  std::lock_guard lock(mutex_);
  auto& db = *db_;
  auto started = std::chrono::steady_clock::now();
  auto tx = sqlite::Transaction::Begin(db);
  if (!tx.ok()) return tx.status();
  uint64_t revision = revision_ + 1;
  int64_t now = NowSeconds();
  size_t change_bytes = 0;

  for (size_t i = 0; i < ops.size();) {
    if (ops[i].kind != protocol::DeltaOp::Kind::kRelationSet) {
      WARDEN_RETURN_IF_ERROR(ApplyOp(ops[i]));
      ++i;
      continue;
    }
    size_t end = i;
    while (end < ops.size() && ops[end].kind == protocol::DeltaOp::Kind::kRelationSet) ++end;
    WARDEN_RETURN_IF_ERROR(InsertRelations(ops, i, end));
    i = end;
  }
  auto rows_done = std::chrono::steady_clock::now();
  {
    auto stmt = db.Cached("INSERT INTO change_log(revision, ops, author, created_at) VALUES (?1, ?2, ?3, ?4)");
    if (!stmt.ok()) return stmt.status();
    std::string ops_json = OpsToJsonText(ops);
    change_bytes = ops_json.size();
    (*stmt)->Bind(1, static_cast<int64_t>(revision)).BindUncopied(2, ops_json).Bind(3, author).Bind(4, now);
    WARDEN_RETURN_IF_ERROR((*stmt)->Run());
  }
  if (policy_set) {
    auto set = db.Prepare("INSERT INTO policy_sets(revision, sha256, author, created_at) VALUES (?1, ?2, ?3, ?4)");
    if (!set.ok()) return set.status();
    set->Bind(1, static_cast<int64_t>(revision)).Bind(2, PolicySetHash(*policy_set)).Bind(3, author).Bind(4, now);
    WARDEN_RETURN_IF_ERROR(set->Run());
    auto file = db.Prepare("INSERT INTO policy_set_files(revision, path, text, sha256) VALUES (?1, ?2, ?3, ?4)");
    if (!file.ok()) return file.status();
    for (const auto& f : *policy_set) {
      file->Bind(1, static_cast<int64_t>(revision)).Bind(2, f.path).Bind(3, f.text).Bind(4, protocol::Sha256Hex(f.text));
      WARDEN_RETURN_IF_ERROR(file->Run());
    }
  }
  {
    auto stmt = db.Cached("UPDATE meta SET value = ?1 WHERE key = 'revision'");
    if (!stmt.ok()) return stmt.status();
    (*stmt)->Bind(1, std::to_string(revision));
    WARDEN_RETURN_IF_ERROR((*stmt)->Run());
  }
  uint64_t compact_to = compacted_through_;
  if (retain_revisions_ > 0 && revision > retain_revisions_ && revision - retain_revisions_ > compacted_through_) {
    // The rows stay as history; only the ops go, and an edge that needs them gets a snapshot.
    compact_to = revision - retain_revisions_;
    auto compact = db.Prepare("UPDATE change_log SET ops = '' WHERE revision > ?1 AND revision <= ?2");
    if (!compact.ok()) return compact.status();
    compact->Bind(1, static_cast<int64_t>(compacted_through_)).Bind(2, static_cast<int64_t>(compact_to));
    WARDEN_RETURN_IF_ERROR(compact->Run());
    auto mark = db.Prepare(
        "INSERT INTO meta(key, value) VALUES ('compacted_through', ?1) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    if (!mark.ok()) return mark.status();
    mark->Bind(1, std::to_string(compact_to));
    WARDEN_RETURN_IF_ERROR(mark->Run());
  }
  auto log_done = std::chrono::steady_clock::now();
  if (proceed && !proceed->get()) return Status::FailedPrecondition("write withdrawn before commit");
  WARDEN_RETURN_IF_ERROR(tx->Commit());
  compacted_through_ = compact_to;
  last_change_bytes_.store(change_bytes, std::memory_order_relaxed);
  if (ops.size() >= 10'000) {
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    spdlog::info("revision {}: tables {:.0f} ms, change log {:.0f} ms, commit {:.0f} ms", revision,
                 ms(started, rows_done), ms(rows_done, log_done), ms(log_done, std::chrono::steady_clock::now()));
  }
  revision_ = revision;
  return revision;
}

void Store::SetChangeLogRetention(uint64_t revisions) {
  std::lock_guard lock(mutex_);
  retain_revisions_ = revisions;
}

uint64_t Store::compacted_through() const {
  std::lock_guard lock(mutex_);
  return compacted_through_;
}

Result<std::vector<ChangeEntry>> Store::Changes(uint64_t after, size_t limit) {
  std::lock_guard lock(mutex_);
  if (after < compacted_through_) {
    return Status::OutOfRange("revisions up to " + std::to_string(compacted_through_) +
                              " were compacted out of the change log; revision " + std::to_string(after + 1) +
                              " needs a snapshot");
  }
  auto stmt = db_->Prepare(
      "SELECT revision, ops, author, created_at FROM change_log WHERE revision > ?1 ORDER BY revision LIMIT ?2");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, static_cast<int64_t>(after)).Bind(2, static_cast<int64_t>(limit));
  std::vector<ChangeEntry> out;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({static_cast<uint64_t>(stmt->ColumnInt(0)), stmt->ColumnText(1), stmt->ColumnText(2),
                   stmt->ColumnInt(3)});
  }
  return out;
}

Result<std::vector<PolicySetInfo>> Store::PolicySets() {
  std::lock_guard lock(mutex_);
  auto stmt = db_->Prepare(
      "SELECT s.revision, s.sha256, s.author, s.created_at, "
      "(SELECT count(*) FROM policy_set_files f WHERE f.revision = s.revision), "
      "(SELECT group_concat(tag, char(10)) FROM (SELECT tag FROM policy_set_tags t WHERE t.revision = s.revision "
      "ORDER BY tag)) FROM policy_sets s ORDER BY s.revision DESC");
  if (!stmt.ok()) return stmt.status();
  std::vector<PolicySetInfo> out;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    PolicySetInfo info;
    info.revision = static_cast<uint64_t>(stmt->ColumnInt(0));
    info.sha256 = stmt->ColumnText(1);
    info.author = stmt->ColumnText(2);
    info.created_at = stmt->ColumnInt(3);
    info.file_count = static_cast<size_t>(stmt->ColumnInt(4));
    std::string tags = stmt->ColumnText(5);
    size_t start = 0;
    while (!tags.empty() && start <= tags.size()) {
      size_t end = tags.find('\n', start);
      if (end == std::string::npos) end = tags.size();
      info.tags.push_back(tags.substr(start, end - start));
      start = end + 1;
    }
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::vector<policy::SourceDocument>> Store::PolicySetFiles(uint64_t revision) {
  std::lock_guard lock(mutex_);
  auto exists = db_->Prepare("SELECT 1 FROM policy_sets WHERE revision = ?1");
  if (!exists.ok()) return exists.status();
  exists->Bind(1, static_cast<int64_t>(revision));
  auto found = exists->Step();
  if (!found.ok()) return found.status();
  if (!*found) return Status::NotFound("no policy set was pushed at revision " + std::to_string(revision));
  auto stmt = db_->Prepare("SELECT path, text FROM policy_set_files WHERE revision = ?1 ORDER BY path");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, static_cast<int64_t>(revision));
  std::vector<policy::SourceDocument> out;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({stmt->ColumnText(0), stmt->ColumnText(1)});
  }
  return out;
}

Status Store::TagPolicySet(uint64_t revision, const std::string& tag) {
  std::lock_guard lock(mutex_);
  auto exists = db_->Prepare("SELECT 1 FROM policy_sets WHERE revision = ?1");
  if (!exists.ok()) return exists.status();
  exists->Bind(1, static_cast<int64_t>(revision));
  auto found = exists->Step();
  if (!found.ok()) return found.status();
  if (!*found) return Status::NotFound("no policy set was pushed at revision " + std::to_string(revision));
  auto stmt = db_->Prepare("INSERT OR REPLACE INTO policy_set_tags(tag, revision, created_at) VALUES (?1, ?2, ?3)");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, tag).Bind(2, static_cast<int64_t>(revision)).Bind(3, NowSeconds());
  return stmt->Run();
}

Result<uint64_t> Store::RevisionOfTag(const std::string& tag) {
  std::lock_guard lock(mutex_);
  auto stmt = db_->Prepare("SELECT revision FROM policy_set_tags WHERE tag = ?1");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, tag);
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Status::NotFound("tag: no policy set is tagged '" + tag + "'");
  return static_cast<uint64_t>(stmt->ColumnInt(0));
}

Result<Store::NewSecret> Store::CreateApiKey(const std::string& name) {
  std::lock_guard lock(mutex_);
  NewSecret created{"key_" + RandomHex(8), "wk_" + RandomHex(32)};
  auto stmt = db_->Prepare("INSERT INTO api_keys(id, name, sha256, created_at) VALUES (?1, ?2, ?3, ?4)");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, created.id).Bind(2, name).Bind(3, protocol::Sha256Hex(created.secret)).Bind(4, NowSeconds());
  WARDEN_RETURN_IF_ERROR(stmt->Run());
  return created;
}

Result<std::vector<ApiKeyInfo>> Store::ApiKeys() {
  std::lock_guard lock(mutex_);
  auto stmt = db_->Prepare("SELECT id, name, created_at FROM api_keys ORDER BY created_at, id");
  if (!stmt.ok()) return stmt.status();
  std::vector<ApiKeyInfo> out;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({stmt->ColumnText(0), stmt->ColumnText(1), stmt->ColumnInt(2)});
  }
  return out;
}

Status Store::DeleteApiKey(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto stmt = db_->Prepare("DELETE FROM api_keys WHERE id = ?1");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, id);
  WARDEN_RETURN_IF_ERROR(stmt->Run());
  if (db_->changes() == 0) return Status::NotFound("id: no key '" + id + "'");
  return Status::Ok();
}

Result<Store::NewSecret> Store::CreateToken(const std::string& name, const std::string& scope, std::string secret) {
  std::lock_guard lock(mutex_);
  if (secret.empty()) secret = "wt_" + RandomHex(32);
  NewSecret created{"tok_" + RandomHex(8), std::move(secret)};
  auto stmt = db_->Prepare("INSERT INTO admin_tokens(id, name, scope, sha256, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, created.id).Bind(2, name).Bind(3, scope).Bind(4, protocol::Sha256Hex(created.secret)).Bind(5, NowSeconds());
  Status status = stmt->Run();
  if (status.code() == StatusCode::kFailedPrecondition) return Status::AlreadyExists("token: already in use");
  WARDEN_RETURN_IF_ERROR(status);
  return created;
}

Result<std::vector<TokenInfo>> Store::Tokens() {
  std::lock_guard lock(mutex_);
  auto stmt = db_->Prepare("SELECT id, name, scope, created_at FROM admin_tokens ORDER BY created_at, id");
  if (!stmt.ok()) return stmt.status();
  std::vector<TokenInfo> out;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({stmt->ColumnText(0), stmt->ColumnText(1), stmt->ColumnText(2), stmt->ColumnInt(3)});
  }
  return out;
}

Status Store::DeleteToken(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto stmt = db_->Prepare("DELETE FROM admin_tokens WHERE id = ?1");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, id);
  WARDEN_RETURN_IF_ERROR(stmt->Run());
  if (db_->changes() == 0) return Status::NotFound("id: no token '" + id + "'");
  return Status::Ok();
}

Result<std::vector<CredentialHash>> Store::TokenHashes() {
  std::lock_guard lock(mutex_);
  auto stmt = db_->Prepare("SELECT id, name, scope, sha256 FROM admin_tokens");
  if (!stmt.ok()) return stmt.status();
  std::vector<CredentialHash> out;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({stmt->ColumnText(0), stmt->ColumnText(1), stmt->ColumnText(2), stmt->ColumnText(3)});
  }
  return out;
}

Result<std::vector<CredentialHash>> Store::KeyHashes() {
  std::lock_guard lock(mutex_);
  auto stmt = db_->Prepare("SELECT id, name, sha256 FROM api_keys");
  if (!stmt.ok()) return stmt.status();
  std::vector<CredentialHash> out;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({stmt->ColumnText(0), stmt->ColumnText(1), "sync", stmt->ColumnText(2)});
  }
  return out;
}

Result<std::vector<EdgeInfo>> Store::Edges() {
  std::lock_guard lock(mutex_);
  auto stmt = db_->Prepare(
      "SELECT instance_id, key_id, address, version, state, revision, last_seen FROM edges ORDER BY instance_id");
  if (!stmt.ok()) return stmt.status();
  std::vector<EdgeInfo> out;
  while (true) {
    auto row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({stmt->ColumnText(0), stmt->ColumnText(1), stmt->ColumnText(2), stmt->ColumnText(3),
                   stmt->ColumnText(4), static_cast<uint64_t>(stmt->ColumnInt(5)), stmt->ColumnInt(6)});
  }
  return out;
}

Status Store::UpsertEdges(const std::vector<EdgeInfo>& edges) {
  std::lock_guard lock(mutex_);
  auto tx = sqlite::Transaction::Begin(*db_);
  if (!tx.ok()) return tx.status();
  auto stmt = db_->Prepare(
      "INSERT INTO edges(instance_id, key_id, address, version, revision, state, last_seen) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(instance_id) DO UPDATE SET key_id = excluded.key_id, "
      "address = excluded.address, version = excluded.version, revision = excluded.revision, "
      "state = excluded.state, last_seen = excluded.last_seen");
  if (!stmt.ok()) return stmt.status();
  for (const auto& edge : edges) {
    stmt->Bind(1, edge.instance_id).Bind(2, edge.key_id).Bind(3, edge.address).Bind(4, edge.version)
        .Bind(5, static_cast<int64_t>(edge.revision)).Bind(6, edge.state).Bind(7, edge.last_seen);
    WARDEN_RETURN_IF_ERROR(stmt->Run());
    stmt->Reset();
  }
  return tx->Commit();
}

Status Store::Backup(const std::string& path) {
  std::lock_guard lock(mutex_);
  if (std::filesystem::exists(path)) return Status::AlreadyExists("backup file " + path + " already exists");
  auto stmt = db_->Prepare("VACUUM INTO ?1");
  if (!stmt.ok()) return stmt.status();
  stmt->Bind(1, path);
  return stmt->Run();
}

}  // namespace warden::control_plane
