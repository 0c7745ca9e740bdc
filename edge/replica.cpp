#include "edge/replica.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <random>

#include <nlohmann/json.hpp>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "common/protocol/apply.h"

namespace warden::edge {
namespace {

constexpr int kSchemaVersion = 1;

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


// Runs a statement that returns no rows, binding `values` in order; prepared once per database
// (these run per op of every revision).
Status RunWith(sqlite::Database& db, const char* sql, std::initializer_list<std::string_view> values) {
  auto statement = db.Cached(sql);
  if (!statement.ok()) return statement.status();
  int index = 1;
  for (auto value : values) (*statement)->Bind(index++, value);
  return (*statement)->Run();
}

// A random epoch for the delta journal's records, never 0 (which stands for "none yet").
uint64_t NewEpoch() {
  uint64_t epoch = 0;
  while (epoch == 0) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&epoch), sizeof epoch) != 1) {
      std::random_device device;
      epoch = (static_cast<uint64_t>(device()) << 32) | device();
    }
  }
  return epoch;
}

// A 64-bit hash of one stored row, the same in every build (the replica keeps the sum): each
// field's length and bytes, 8 at a time, under a tag naming the table, then a finalizer so rows
// that differ in one byte differ in about half the bits.
class RowHash {
 public:
  explicit RowHash(char table) : h_(0x9e3779b97f4a7c15ull ^ static_cast<uint64_t>(table)) {}
  RowHash& Add(std::string_view field) {
    Mix(field.size());
    size_t i = 0;
    for (; i + 8 <= field.size(); i += 8) {
      uint64_t word;
      std::memcpy(&word, field.data() + i, 8);
      Mix(word);
    }
    uint64_t tail = 0;
    if (i < field.size()) std::memcpy(&tail, field.data() + i, field.size() - i);
    Mix(tail);
    return *this;
  }
  uint64_t Finish() const {
    uint64_t z = h_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  // MurmurHash3's 64-bit block step.
  void Mix(uint64_t word) {
    word *= 0x87c37b91114253d5ull;
    word = (word << 31) | (word >> 33);
    word *= 0x4cf5ad432745937full;
    h_ ^= word;
    h_ = ((h_ << 27) | (h_ >> 37)) * 5 + 0x52dce729;
  }
  uint64_t h_;
};

uint64_t RelationRowHash(std::string_view object_type, std::string_view object_id, std::string_view relation,
                         std::string_view subject_type, std::string_view subject_id, std::string_view subject_relation) {
  return RowHash('r').Add(object_type).Add(object_id).Add(relation).Add(subject_type).Add(subject_id)
      .Add(subject_relation).Finish();
}
uint64_t ObjectRowHash(std::string_view type, std::string_view id, std::string_view display_name,
                       std::string_view properties) {
  return RowHash('o').Add(type).Add(id).Add(display_name).Add(properties).Finish();
}
uint64_t PolicyRowHash(std::string_view path, std::string_view text, std::string_view sha256) {
  return RowHash('p').Add(path).Add(text).Add(sha256).Finish();
}
uint64_t ManifestRowHash(std::string_view format, std::string_view name, std::string_view text) {
  return RowHash('m').Add(format).Add(name).Add(text).Finish();
}

// meta.content_digest: the tables' revision and their digest.
std::string DigestText(uint64_t revision, uint64_t digest) {
  return std::to_string(revision) + ":" + std::to_string(digest);
}

// The ops of a journal record's payload: a delta message, or {"ops": [...]}.
Result<std::vector<protocol::DeltaOp>> OpsOfPayload(const std::string& payload) {
  nlohmann::json parsed = nlohmann::json::parse(payload, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("ops")) return Status::InvalidArgument("not a journal payload");
  return protocol::OpsFromJson(parsed["ops"]);
}

// Reads a table in full, handing `use` each row; a step error, or an error from `use`, ends the
// read with that error.
template <typename Use>
Status EachRow(sqlite::Database& db, const char* sql, Use&& use) {
  auto statement = db.Prepare(sql);
  if (!statement.ok()) return statement.status();
  while (true) {
    auto row = statement->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
    WARDEN_RETURN_IF_ERROR(use(*statement));
  }
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

Result<std::unique_ptr<Replica>> Replica::Open(const std::string& path, bool full_sync) {
  // A damaged replica is set aside and started empty: sync sends a snapshot.
  bool discarded = false;
  auto db = sqlite::Database::OpenOrSetAside(path, &discarded);
  if (!db.ok()) return db.status().WithPrefix("replica");
  std::unique_ptr<Replica> replica(new Replica(std::move(*db)));
  replica->discarded_ = discarded;
  // A readable file that Initialize() refuses (a newer schema) is not damage: say so, keep it.
  WARDEN_RETURN_IF_ERROR(replica->Initialize(full_sync));
  WARDEN_RETURN_IF_ERROR(replica->RecoverJournal(path + ".deltas", full_sync));
  replica->fold_at_ = kFoldRevisions / 2 + NewEpoch() % kFoldRevisions;
  return replica;
}

Status Replica::Initialize(bool full_sync) {
  WARDEN_RETURN_IF_ERROR(db_.Exec(full_sync ? "PRAGMA busy_timeout=5000; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                            : "PRAGMA busy_timeout=5000; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  WARDEN_RETURN_IF_ERROR(db_.Exec(kSchema));
  WARDEN_RETURN_IF_ERROR(PrepareStatements());
  std::string stored_digest;
  auto read = db_.Prepare("SELECT key, value FROM meta");
  if (!read.ok()) return read.status();
  while (true) {
    auto row = read->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    std::string key = read->ColumnText(0);
    if (key == "instance_id") instance_id_ = read->ColumnText(1);
    if (key == "store_id") store_id_ = read->ColumnText(1);
    if (key == "revision") revision_ = tables_revision_ = std::stoull(read->ColumnText(1));
    if (key == "journal_epoch") journal_epoch_ = std::stoull(read->ColumnText(1));
    if (key == "journal_base") journal_base_ = std::stoull(read->ColumnText(1));
    if (key == "content_digest") stored_digest = read->ColumnText(1);
    if (key == "schema" && std::stoi(read->ColumnText(1)) > kSchemaVersion) {
      return Status::FailedPrecondition("replica: schema version " + read->ColumnText(1) + " is newer than this binary");
    }
  }
  // "R:D", the digest D of the tables at revision R. One of another revision was left by a build
  // that wrote the tables without keeping it.
  size_t colon = stored_digest.find(':');
  if (colon != std::string::npos && stored_digest.substr(0, colon) == std::to_string(tables_revision_)) {
    digest_ = std::strtoull(stored_digest.c_str() + colon + 1, nullptr, 10);
  } else if (tables_revision_ > 0) {
    // Written by a build that kept no digest: its content is taken as it stands, as it always was.
    auto digest = TablesDigest();
    if (!digest.ok()) return digest.status();
    WARDEN_RETURN_IF_ERROR(SetMeta("content_digest", DigestText(tables_revision_, *digest)));
    digest_ = *digest;
  }
  if (!instance_id_.empty()) return Status::Ok();
  instance_id_ = NewUuid();
  auto transaction = sqlite::Transaction::Begin(db_);
  if (!transaction.ok()) return transaction.status();
  WARDEN_RETURN_IF_ERROR(SetMeta("instance_id", instance_id_));
  WARDEN_RETURN_IF_ERROR(SetMeta("schema", std::to_string(kSchemaVersion)));
  return transaction->Commit();
}

Result<uint64_t> Replica::RestartJournal(uint64_t base) {
  uint64_t epoch = NewEpoch();
  WARDEN_RETURN_IF_ERROR(SetMeta("journal_epoch", std::to_string(epoch)));
  WARDEN_RETURN_IF_ERROR(SetMeta("journal_base", std::to_string(base)));
  return epoch;
}

Status Replica::RecoverJournal(const std::string& path, bool full_sync) {
  auto journal = DeltaJournal::Open(path, full_sync);
  if (!journal.ok()) return journal.status().WithPrefix("replica");
  journal_ = std::move(*journal);
  if (journal_epoch_ == 0 || journal_base_ != tables_revision_) {
    // The tables are new, from before the journal, or were written since it started (by a build
    // that does not know it): no record there follows them.
    auto transaction = sqlite::Transaction::Begin(db_);
    if (!transaction.ok()) return transaction.status();
    auto epoch = RestartJournal(tables_revision_);
    if (!epoch.ok()) return epoch.status();
    WARDEN_RETURN_IF_ERROR(transaction->Commit());
    journal_epoch_ = *epoch;
    journal_base_ = tables_revision_;
    return journal_->Clear();
  }
  auto records = journal_->ReadAndTrim(journal_epoch_);
  if (!records.ok()) return records.status().WithPrefix("replica");
  for (auto& record : *records) {
    if (record.revision != revision_ + 1) break;
    auto ops = OpsOfPayload(record.payload);
    if (!ops.ok()) break;  // not what this code writes: nothing from here on is replayed
    unfolded_.push_back({record.revision, std::move(*ops)});
    revision_ = record.revision;
  }
  if (unfolded_.empty()) return journal_->size() == 0 ? Status::Ok() : journal_->Clear();
  spdlog::info("replica: {} revisions through {} taken from the delta journal", unfolded_.size(), revision_);
  return Fold();
}

Status Replica::SetInstanceId(const std::string& instance_id) {
  WARDEN_RETURN_IF_ERROR(SetMeta("instance_id", instance_id));
  instance_id_ = instance_id;
  return Status::Ok();
}

Status Replica::PrepareStatements() {
  auto prepare = [this](std::optional<sqlite::Statement>& into, const char* sql) -> Status {
    auto statement = db_.Prepare(sql);
    if (!statement.ok()) return statement.status();
    into = std::move(*statement);
    return Status::Ok();
  };
  WARDEN_RETURN_IF_ERROR(prepare(set_relation_, "INSERT OR IGNORE INTO relations VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  WARDEN_RETURN_IF_ERROR(prepare(delete_relation_,
                                 "DELETE FROM relations WHERE object_type = ?1 AND object_id = ?2 AND relation = ?3 AND "
                                 "subject_type = ?4 AND subject_id = ?5 AND subject_relation = ?6"));
  return prepare(set_meta_,
                 "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
}

Status Replica::SetMeta(const std::string& key, const std::string& value) {
  // Bound without a copy: both outlive the statement's run, which clears its bindings.
  return set_meta_->BindUncopied(1, key).BindUncopied(2, value).Run();
}

Status Replica::UnhashRow(char table, std::string_view key, std::string_view second_key) {
  const char* sql = table == 'o'   ? "SELECT display_name, properties FROM objects WHERE type = ?1 AND id = ?2"
                    : table == 'p' ? "SELECT text, sha256 FROM policies WHERE path = ?1"
                                   : "SELECT format, name, text FROM manifest";
  auto statement = db_.Cached(sql);
  if (!statement.ok()) return statement.status();
  if (table == 'o') (*statement)->BindUncopied(1, key).BindUncopied(2, second_key);
  if (table == 'p') (*statement)->BindUncopied(1, key);
  auto row = (*statement)->Step();
  if (!row.ok()) return row.status();
  if (*row) {
    sqlite::Statement& old = **statement;
    staged_digest_ -= table == 'o'   ? ObjectRowHash(key, second_key, old.ColumnText(0), old.ColumnText(1))
                      : table == 'p' ? PolicyRowHash(key, old.ColumnText(0), old.ColumnText(1))
                                     : ManifestRowHash(old.ColumnText(0), old.ColumnText(1), old.ColumnText(2));
  }
  (*statement)->Reset();
  return Status::Ok();
}

Status Replica::WriteOp(const protocol::DeltaOp& op) {
  using Kind = protocol::DeltaOp::Kind;
  const auto& r = op.relation;
  // Each row that goes is taken out of the staged digest and each that comes is added, so the
  // digest follows the tables without reading them whole.
  switch (op.kind) {
    case Kind::kObjectSet: {
      WARDEN_RETURN_IF_ERROR(UnhashRow('o', op.object.type, op.object.id));
      std::string properties = op.object.properties.dump();
      WARDEN_RETURN_IF_ERROR(RunWith(db_,
                                     "INSERT INTO objects(type, id, display_name, properties) VALUES (?1, ?2, ?3, ?4) "
                                     "ON CONFLICT(type, id) DO UPDATE SET display_name = excluded.display_name, "
                                     "properties = excluded.properties",
                                     {op.object.type, op.object.id, op.object.display_name, properties}));
      staged_digest_ += ObjectRowHash(op.object.type, op.object.id, op.object.display_name, properties);
      return Status::Ok();
    }
    case Kind::kObjectDelete:
      WARDEN_RETURN_IF_ERROR(UnhashRow('o', op.object.type, op.object.id));
      return RunWith(db_, "DELETE FROM objects WHERE type = ?1 AND id = ?2", {op.object.type, op.object.id});
    case Kind::kRelationSet:
    case Kind::kRelationDelete: {
      // The op outlives the run, so its strings are bound without a copy.
      sqlite::Statement& statement = op.kind == Kind::kRelationSet ? *set_relation_ : *delete_relation_;
      WARDEN_RETURN_IF_ERROR(statement.BindUncopied(1, r.object_type).BindUncopied(2, r.object_id)
                                 .BindUncopied(3, r.relation).BindUncopied(4, r.subject_type)
                                 .BindUncopied(5, r.subject_id).BindUncopied(6, r.subject_relation).Run());
      if (db_.changes() == 0) return Status::Ok();  // already there, or already gone
      uint64_t hash =
          RelationRowHash(r.object_type, r.object_id, r.relation, r.subject_type, r.subject_id, r.subject_relation);
      staged_digest_ += op.kind == Kind::kRelationSet ? hash : uint64_t{0} - hash;
      return Status::Ok();
    }
    case Kind::kManifestSet: {
      WARDEN_RETURN_IF_ERROR(UnhashRow('m', {}, {}));
      const char* format = op.manifest.format == directory::ManifestSource::Format::kZed ? "zed" : "yaml";
      WARDEN_RETURN_IF_ERROR(RunWith(db_,
                                     "INSERT INTO manifest(singleton, format, name, text) VALUES (1, ?1, ?2, ?3) "
                                     "ON CONFLICT(singleton) DO UPDATE SET format = excluded.format, "
                                     "name = excluded.name, text = excluded.text",
                                     {format, op.manifest.name, op.manifest.text}));
      staged_digest_ += ManifestRowHash(format, op.manifest.name, op.manifest.text);
      return Status::Ok();
    }
    case Kind::kPolicySet: {
      WARDEN_RETURN_IF_ERROR(UnhashRow('p', op.policy.path, {}));
      std::string sha256 = protocol::Sha256Hex(op.policy.text);
      WARDEN_RETURN_IF_ERROR(RunWith(db_,
                                     "INSERT INTO policies(path, text, sha256) VALUES (?1, ?2, ?3) ON CONFLICT(path) "
                                     "DO UPDATE SET text = excluded.text, sha256 = excluded.sha256",
                                     {op.policy.path, op.policy.text, sha256}));
      staged_digest_ += PolicyRowHash(op.policy.path, op.policy.text, sha256);
      return Status::Ok();
    }
    case Kind::kPolicyDelete:
      WARDEN_RETURN_IF_ERROR(UnhashRow('p', op.policy.path, {}));
      return RunWith(db_, "DELETE FROM policies WHERE path = ?1", {op.policy.path});
  }
  return Status::Internal("replica: unknown op");
}

Status Replica::ApplyRevision(uint64_t revision, const std::vector<protocol::DeltaOp>& ops) {
  Revision one{&ops, {}};
  return ApplyRevisions(revision, std::span(&one, 1));
}

Status Replica::ApplyRevisions(uint64_t first, std::span<const Revision> revisions) {
  if (first != revision_ + 1) {
    return Status::FailedPrecondition("replica holds revision " + std::to_string(revision_) + ", cannot apply " +
                                      std::to_string(first));
  }
  if (revisions.empty()) return Status::Ok();
  // Folding has failed for a long while: stop taking revisions rather than hold them all in memory.
  if (unfolded_.size() >= 16 * kFoldRevisions) WARDEN_RETURN_IF_ERROR(Fold());
  std::vector<std::string> serialized;
  serialized.reserve(revisions.size());  // never reallocated: `entries` views its strings
  std::vector<DeltaJournal::Entry> entries;
  entries.reserve(revisions.size());
  for (size_t i = 0; i < revisions.size(); ++i) {
    std::string_view payload = revisions[i].message;
    if (payload.empty()) {
      serialized.push_back(nlohmann::json{{"ops", protocol::OpsToJson(*revisions[i].ops)}}.dump());
      payload = serialized.back();
    }
    entries.push_back({first + i, payload});
  }
  WARDEN_RETURN_IF_ERROR(journal_->Append(journal_epoch_, entries));
  for (size_t i = 0; i < revisions.size(); ++i) {
    if (revisions[i].take) {
      unfolded_.push_back({first + i, std::move(*revisions[i].take)});
    } else {
      unfolded_.push_back({first + i, *revisions[i].ops});
    }
  }
  revision_ = first + revisions.size() - 1;
  last_append_ = std::chrono::steady_clock::now();
  return Status::Ok();
}

bool Replica::FoldDue() const {
  if (unfolded_.size() >= fold_at_) return true;
  return journal_->size() >= kFoldBytes && std::chrono::steady_clock::now() - last_append_ >= kFoldQuiet;
}

void Replica::FoldIfDue() {
  if (!FoldDue()) return;
  if (Status folded = Fold(); !folded.ok()) {
    spdlog::warn("replica: cannot write the delta journal's {} revisions into the tables (retried later): {}",
                 unfolded_.size(), folded.message());
  }
}

Status Replica::Fold() {
  if (unfolded_.empty()) return Status::Ok();
  auto transaction = sqlite::Transaction::Begin(db_);
  if (!transaction.ok()) return transaction.status();
  staged_digest_ = digest_;
  for (const auto& revision : unfolded_) {
    for (const auto& op : revision.ops) WARDEN_RETURN_IF_ERROR(WriteOp(op));  // the transaction rolls back on return
  }
  WARDEN_RETURN_IF_ERROR(SetMeta("revision", std::to_string(revision_)));
  WARDEN_RETURN_IF_ERROR(SetMeta("content_digest", DigestText(revision_, staged_digest_)));
  // The records just written belong to the old epoch, so they are never read again even if
  // emptying the journal below does not happen (the next append retries that first).
  auto epoch = RestartJournal(revision_);
  if (!epoch.ok()) return epoch.status();
  WARDEN_RETURN_IF_ERROR(transaction->Commit());
  tables_revision_ = journal_base_ = revision_;
  digest_ = staged_digest_;
  journal_epoch_ = *epoch;
  unfolded_.clear();
  fold_at_ = kFoldRevisions / 2 + NewEpoch() % kFoldRevisions;
  if (Status cleared = journal_->Clear(); !cleared.ok()) spdlog::warn("replica: {}", cleared.message());
  return Status::Ok();
}

Status Replica::ReplaceWith(const Snapshot& snapshot) {
  auto transaction = sqlite::Transaction::Begin(db_);
  if (!transaction.ok()) return transaction.status();
  WARDEN_RETURN_IF_ERROR(db_.Exec("DELETE FROM policies; DELETE FROM manifest; DELETE FROM objects; DELETE FROM relations;"));
  staged_digest_ = 0;
  for (const auto& source : *snapshot.policy_sources) {
    WARDEN_RETURN_IF_ERROR(WriteOp(protocol::DeltaOp::SetPolicy(source.path, source.text)));
  }
  if (const auto& manifest = snapshot.directory->manifest_source()) {
    WARDEN_RETURN_IF_ERROR(WriteOp(protocol::DeltaOp::SetManifest(*manifest)));
  }
  auto object = db_.Prepare("INSERT INTO objects(type, id, display_name, properties) VALUES (?1, ?2, ?3, ?4)");
  if (!object.ok()) return object.status();
  std::string cursor;
  do {
    auto page = snapshot.directory->ListObjects("", 10000, cursor);
    if (!page.ok()) return page.status();
    for (const auto& o : page->objects) {
      std::string properties = o.properties.dump();
      object->Bind(1, o.type).Bind(2, o.id).Bind(3, o.display_name).Bind(4, properties);
      WARDEN_RETURN_IF_ERROR(object->Run());
      object->Reset();
      staged_digest_ += ObjectRowHash(o.type, o.id, o.display_name, properties);
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  auto relation = db_.Prepare("INSERT OR IGNORE INTO relations VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!relation.ok()) return relation.status();
  do {
    auto page = snapshot.directory->ListRelations({}, 10000, cursor);
    if (!page.ok()) return page.status();
    for (const auto& r : page->relations) {
      relation->Bind(1, r.object_type).Bind(2, r.object_id).Bind(3, r.relation).Bind(4, r.subject_type)
          .Bind(5, r.subject_id).Bind(6, r.subject_relation);
      WARDEN_RETURN_IF_ERROR(relation->Run());
      relation->Reset();
      if (db_.changes() > 0) {
        staged_digest_ +=
            RelationRowHash(r.object_type, r.object_id, r.relation, r.subject_type, r.subject_id, r.subject_relation);
      }
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  WARDEN_RETURN_IF_ERROR(SetMeta("store_id", snapshot.store_id));
  WARDEN_RETURN_IF_ERROR(SetMeta("revision", std::to_string(snapshot.revision)));
  WARDEN_RETURN_IF_ERROR(SetMeta("content_digest", DigestText(snapshot.revision, staged_digest_)));
  // The journal's records followed the content replaced here: a new epoch disowns them even if
  // emptying the journal below does not happen.
  auto epoch = RestartJournal(snapshot.revision);
  if (!epoch.ok()) return epoch.status();
  // Test hook (never set in production): pause with everything written but not committed, so a
  // test can kill the process provably in the middle of applying a snapshot.
  if (const char* pause = std::getenv("WARDEN_TEST_SNAPSHOT_COMMIT_PAUSE_MS")) {
    spdlog::warn("replica: snapshot of revision {} written, not yet committed (test pause {} ms)", snapshot.revision,
                 pause);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(pause)));
  }
  WARDEN_RETURN_IF_ERROR(transaction->Commit());
  store_id_ = snapshot.store_id;
  revision_ = tables_revision_ = journal_base_ = snapshot.revision;
  digest_ = staged_digest_;
  journal_epoch_ = *epoch;
  unfolded_.clear();
  if (Status cleared = journal_->Clear(); !cleared.ok()) spdlog::warn("replica: {}", cleared.message());
  return Status::Ok();
}

Result<uint64_t> Replica::TablesDigest() const {
  uint64_t digest = 0;
  WARDEN_RETURN_IF_ERROR(EachRow(db_, "SELECT path, text, sha256 FROM policies", [&](sqlite::Statement& row) {
    digest += PolicyRowHash(row.ColumnText(0), row.ColumnText(1), row.ColumnText(2));
    return Status::Ok();
  }));
  WARDEN_RETURN_IF_ERROR(EachRow(db_, "SELECT format, name, text FROM manifest", [&](sqlite::Statement& row) {
    digest += ManifestRowHash(row.ColumnText(0), row.ColumnText(1), row.ColumnText(2));
    return Status::Ok();
  }));
  WARDEN_RETURN_IF_ERROR(EachRow(db_, "SELECT type, id, display_name, properties FROM objects", [&](sqlite::Statement& row) {
    digest += ObjectRowHash(row.ColumnText(0), row.ColumnText(1), row.ColumnText(2), row.ColumnText(3));
    return Status::Ok();
  }));
  WARDEN_RETURN_IF_ERROR(EachRow(
      db_, "SELECT object_type, object_id, relation, subject_type, subject_id, subject_relation FROM relations",
      [&](sqlite::Statement& row) {
        digest += RelationRowHash(row.ColumnText(0), row.ColumnText(1), row.ColumnText(2), row.ColumnText(3),
                                  row.ColumnText(4), row.ColumnText(5));
        return Status::Ok();
      }));
  return digest;
}

Result<std::shared_ptr<const Snapshot>> Replica::Load(const policy::ExpressionLimits& expression_limits) const {
  if (revision_ == 0) return std::shared_ptr<const Snapshot>();
  // The digest of every row read, checked against the one kept with the tables: a damaged row
  // (a flipped byte passes quick_check) must not be served, and is not resumed from either.
  uint64_t digest = 0;
  auto each_row = [this](const char* sql, auto&& use) { return EachRow(db_, sql, use); };
  std::optional<directory::ManifestSource> manifest;
  WARDEN_RETURN_IF_ERROR(each_row("SELECT format, name, text FROM manifest", [&](sqlite::Statement& row) {
    std::string format = row.ColumnText(0);
    manifest = directory::ManifestSource{
        format == "zed" ? directory::ManifestSource::Format::kZed : directory::ManifestSource::Format::kYaml,
        row.ColumnText(2), row.ColumnText(1)};
    digest += ManifestRowHash(format, manifest->name, manifest->text);
    return Status::Ok();
  }));
  auto builder = directory::DirectorySnapshot::Builder::Create(manifest);
  if (!builder.ok()) return builder.status().WithPrefix("replica manifest");
  WARDEN_RETURN_IF_ERROR(each_row("SELECT type, id, display_name, properties FROM objects", [&](sqlite::Statement& row) {
    std::string properties = row.ColumnText(3);
    directory::ObjectRecord record{row.ColumnText(0), row.ColumnText(1), row.ColumnText(2),
                                   nlohmann::json::parse(properties, nullptr, false)};
    digest += ObjectRowHash(record.type, record.id, record.display_name, properties);
    if (record.properties.is_discarded()) record.properties = nlohmann::json::object();
    return builder->AddObject(std::move(record));
  }));
  WARDEN_RETURN_IF_ERROR(each_row(
      "SELECT object_type, object_id, relation, subject_type, subject_id, subject_relation FROM relations",
      [&](sqlite::Statement& row) {
        directory::RelationTuple tuple{row.ColumnText(0), row.ColumnText(1), row.ColumnText(2),
                                       row.ColumnText(3), row.ColumnText(4), row.ColumnText(5)};
        digest += RelationRowHash(tuple.object_type, tuple.object_id, tuple.relation, tuple.subject_type,
                                  tuple.subject_id, tuple.subject_relation);
        return builder->AddRelation(std::move(tuple));
      }));
  std::vector<policy::SourceDocument> sources;
  WARDEN_RETURN_IF_ERROR(each_row("SELECT path, text, sha256 FROM policies ORDER BY path", [&](sqlite::Statement& row) {
    if (protocol::Sha256Hex(row.ColumnText(1)) != row.ColumnText(2)) {
      return Status::FailedPrecondition("replica policy " + row.ColumnText(0) + " does not match its hash");
    }
    digest += PolicyRowHash(row.ColumnText(0), row.ColumnText(1), row.ColumnText(2));
    sources.push_back({row.ColumnText(0), row.ColumnText(1)});
    return Status::Ok();
  }));
  if (digest != digest_) {
    return Status::FailedPrecondition("replica content at revision " + std::to_string(tables_revision_) +
                                      " does not match its checksum (a damaged row)");
  }
  auto loaded = MakeSnapshot(std::move(sources), builder->Build(tables_revision_), tables_revision_, store_id_,
                             expression_limits);
  if (!loaded.ok() || unfolded_.empty()) return loaded;
  // The journal's revisions the tables do not hold yet (Open folds an earlier run's; these are
  // this run's).
  std::shared_ptr<const Snapshot> snapshot = *loaded;
  for (const auto& revision : unfolded_) {
    auto next = protocol::ApplyRevision(*snapshot, revision.revision, revision.ops);
    if (!next.ok()) return next.status().WithPrefix("replica revision " + std::to_string(revision.revision));
    snapshot = std::move(*next);
  }
  return snapshot;
}

}  // namespace warden::edge
