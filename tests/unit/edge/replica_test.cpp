#include "edge/replica.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/directory/checker.h"
#include "common/snapshot/folder_snapshot.h"
#include "common/store/sqlite.h"

using namespace warden;
using warden::edge::Replica;
using warden::protocol::DeltaOp;

namespace {

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("warden-replica-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  std::filesystem::remove(path.string() + ".corrupt");
  std::filesystem::remove(path.string() + ".deltas");
  return path.string();
}

const char* kManifest = R"(model:
  version: 3
types:
  user: {}
  group:
    relations:
      member: user | group#member
  document:
    relations:
      viewer: user | group#member
    permissions:
      can_view: viewer
)";

const char* kPolicy = R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: report
  version: default
  rules:
    - actions: ["read"]
      effect: EFFECT_ALLOW
      roles: ["reader"]
)";

std::shared_ptr<const Snapshot> Sample() {
  auto builder = directory::DirectorySnapshot::Builder::Create(
      directory::ManifestSource{directory::ManifestSource::Format::kYaml, kManifest, "manifest.yaml"});
  REQUIRE(builder.ok());
  REQUIRE(builder->AddObject({"user", "alice", "Alice", nlohmann::json{{"roles", {"reader"}}}}).ok());
  REQUIRE(builder->AddRelation({"group", "eng", "member", "user", "alice", ""}).ok());
  REQUIRE(builder->AddRelation({"document", "d1", "viewer", "group", "eng", "member"}).ok());
  auto made = MakeSnapshot({{"report.yaml", kPolicy}}, builder->Build(7), 7, "store-1");
  REQUIRE(made.ok());
  return *made;
}

bool CanView(const Snapshot& snapshot, const std::string& document, const std::string& user) {
  directory::CheckRequest check{"document", document, "can_view", "user", user, "", false};
  auto result = directory::Check(*snapshot.directory, check);
  REQUIRE(result.ok());
  return result->allowed;
}

}  // namespace

TEST_CASE("a new replica is empty and has an instance id it keeps") {
  std::string path = TempPath("new.db");
  std::string instance;
  {
    auto replica = Replica::Open(path);
    REQUIRE(replica.ok());
    CHECK((*replica)->revision() == 0);
    CHECK((*replica)->instance_id().size() == 36);
    instance = (*replica)->instance_id();
    auto loaded = (*replica)->Load();
    REQUIRE(loaded.ok());
    CHECK(*loaded == nullptr);
  }
  auto reopened = Replica::Open(path);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->instance_id() == instance);
}

TEST_CASE("a snapshot written to the replica loads back whole after a reopen") {
  std::string path = TempPath("whole.db");
  {
    auto replica = Replica::Open(path);
    REQUIRE(replica.ok());
    REQUIRE((*replica)->ReplaceWith(*Sample()).ok());
  }
  auto replica = Replica::Open(path);
  REQUIRE(replica.ok());
  CHECK((*replica)->revision() == 7);
  CHECK((*replica)->store_id() == "store-1");
  auto loaded = (*replica)->Load();
  REQUIRE(loaded.ok());
  REQUIRE(*loaded != nullptr);
  const Snapshot& snapshot = **loaded;
  CHECK(snapshot.revision == 7);
  CHECK(CanView(snapshot, "d1", "alice"));
  CHECK(snapshot.policies->CoversResourceKind("report"));
  CHECK(snapshot.directory->GetObject("user", "alice")->properties["roles"][0] == "reader");
}

TEST_CASE("revisions apply in order, and a gap or a repeat is refused") {
  std::string path = TempPath("deltas.db");
  auto replica = Replica::Open(path);
  REQUIRE(replica.ok());
  REQUIRE((*replica)->ReplaceWith(*Sample()).ok());
  REQUIRE((*replica)->ApplyRevision(8, {DeltaOp::SetRelation({"document", "d2", "viewer", "user", "bob", ""}),
                                        DeltaOp::DeletePolicy("report.yaml")})
              .ok());
  CHECK((*replica)->ApplyRevision(8, {}).code() == StatusCode::kFailedPrecondition);
  CHECK((*replica)->ApplyRevision(10, {}).code() == StatusCode::kFailedPrecondition);
  auto loaded = (*replica)->Load();
  REQUIRE(loaded.ok());
  CHECK((**loaded).revision == 8);
  CHECK(CanView(**loaded, "d2", "bob"));
  CHECK_FALSE((**loaded).policies->CoversResourceKind("report"));
}

TEST_CASE("consecutive revisions apply in one transaction, from the one after the revision held") {
  std::string path = TempPath("batch.db");
  auto replica = Replica::Open(path);
  REQUIRE(replica.ok());
  REQUIRE((*replica)->ReplaceWith(*Sample()).ok());
  std::vector<DeltaOp> r8 = {DeltaOp::SetRelation({"document", "d2", "viewer", "user", "bob", ""})};
  std::vector<DeltaOp> r9 = {DeltaOp::SetRelation({"document", "d3", "viewer", "user", "bob", ""})};
  Replica::Revision gap[] = {{&r9, {}}};
  CHECK((*replica)->ApplyRevisions(9, gap).code() == StatusCode::kFailedPrecondition);
  Replica::Revision both[] = {{&r8, {}}, {&r9, {}}};
  REQUIRE((*replica)->ApplyRevisions(8, both).ok());
  CHECK((*replica)->revision() == 9);
  auto loaded = (*replica)->Load();
  REQUIRE(loaded.ok());
  CHECK((**loaded).revision == 9);
  CHECK(CanView(**loaded, "d2", "bob"));
  CHECK(CanView(**loaded, "d3", "bob"));
}

namespace {

std::vector<DeltaOp> Grant(const std::string& document) {
  return {DeltaOp::SetRelation({"document", document, "viewer", "user", "bob", ""})};
}

uint64_t FileSize(const std::string& path) { return std::filesystem::file_size(path); }

}  // namespace

TEST_CASE("revisions go to the delta journal, and a reopened replica holds them in its tables") {
  std::string path = TempPath("journal.db");
  {
    auto replica = Replica::Open(path);
    REQUIRE(replica.ok());
    REQUIRE((*replica)->ReplaceWith(*Sample()).ok());
    CHECK(FileSize(path + ".deltas") == 0);
    REQUIRE((*replica)->ApplyRevision(8, Grant("d2")).ok());
    // A delta message journaled as it arrived.
    auto r9 = Grant("d3");
    std::string message = nlohmann::json{{"type", "delta"}, {"revision", 9}, {"ops", protocol::OpsToJson(r9)}}.dump();
    Replica::Revision nine[] = {{&r9, message}};
    REQUIRE((*replica)->ApplyRevisions(9, nine).ok());
    CHECK((*replica)->revision() == 9);
    CHECK(FileSize(path + ".deltas") > 0);
    auto loaded = (*replica)->Load();  // the tables at 7 and the journal's 8 and 9
    REQUIRE(loaded.ok());
    CHECK((**loaded).revision == 9);
    CHECK(CanView(**loaded, "d3", "bob"));
  }  // as a crash would leave it: nothing folded
  auto reopened = Replica::Open(path);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->revision() == 9);
  CHECK(FileSize(path + ".deltas") == 0);  // folded at open
  auto loaded = (*reopened)->Load();
  REQUIRE(loaded.ok());
  CHECK((**loaded).revision == 9);
  CHECK(CanView(**loaded, "d2", "bob"));
  CHECK(CanView(**loaded, "d3", "bob"));
  REQUIRE((*reopened)->ApplyRevision(10, Grant("d4")).ok());
}

TEST_CASE("a journal cut short or with a damaged tail keeps its whole records") {
  std::string path = TempPath("torn.db");
  {
    auto replica = Replica::Open(path);
    REQUIRE(replica.ok());
    REQUIRE((*replica)->ReplaceWith(*Sample()).ok());
    REQUIRE((*replica)->ApplyRevision(8, Grant("d2")).ok());
    uint64_t whole = FileSize(path + ".deltas");
    REQUIRE((*replica)->ApplyRevision(9, Grant("d3")).ok());
    std::filesystem::resize_file(path + ".deltas", whole + 10);  // revision 9 cut in the middle
  }
  {
    std::ofstream tail(path + ".deltas", std::ios::app | std::ios::binary);
    tail << std::string(64, '\0');  // and a tail of zeros, as a power loss can leave
  }
  auto reopened = Replica::Open(path);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->revision() == 8);
  auto loaded = (*reopened)->Load();
  REQUIRE(loaded.ok());
  CHECK(CanView(**loaded, "d2", "bob"));
  CHECK_FALSE(CanView(**loaded, "d3", "bob"));
  REQUIRE((*reopened)->ApplyRevision(9, Grant("d3")).ok());
}

TEST_CASE("a snapshot disowns the journal's records, even ones it could not erase") {
  std::string path = TempPath("epoch.db");
  std::string stale;
  {
    auto replica = Replica::Open(path);
    REQUIRE(replica.ok());
    REQUIRE((*replica)->ReplaceWith(*Sample()).ok());
    REQUIRE((*replica)->ApplyRevision(8, Grant("d2")).ok());
    std::ifstream in(path + ".deltas", std::ios::binary);
    stale.assign(std::istreambuf_iterator<char>(in), {});
    REQUIRE((*replica)->ReplaceWith(*Sample()).ok());  // revision 7 again, without d2
  }
  {
    std::ofstream out(path + ".deltas", std::ios::binary | std::ios::trunc);
    out << stale;  // as if emptying the journal had failed
  }
  auto reopened = Replica::Open(path);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->revision() == 7);
  auto loaded = (*reopened)->Load();
  REQUIRE(loaded.ok());
  CHECK_FALSE(CanView(**loaded, "d2", "bob"));
}

TEST_CASE("a fold's records are never read again, even when emptying the journal did not happen") {
  std::string path = TempPath("refold.db");
  std::string journaled;
  {
    auto replica = Replica::Open(path);
    REQUIRE(replica.ok());
    REQUIRE((*replica)->ReplaceWith(*Sample()).ok());
    REQUIRE((*replica)->ApplyRevision(8, Grant("d2")).ok());
    std::ifstream in(path + ".deltas", std::ios::binary);
    journaled.assign(std::istreambuf_iterator<char>(in), {});
  }
  REQUIRE(Replica::Open(path).ok());  // folds revision 8 and empties the journal
  {
    std::ofstream out(path + ".deltas", std::ios::binary | std::ios::trunc);
    out << journaled;
  }
  auto reopened = Replica::Open(path);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->revision() == 8);
  REQUIRE((*reopened)->ApplyRevision(9, Grant("d3")).ok());
  reopened->reset();
  auto again = Replica::Open(path);
  REQUIRE(again.ok());
  CHECK((*again)->revision() == 9);
}

TEST_CASE("records do not follow tables written behind the journal's back (a build without it)") {
  std::string path = TempPath("behind.db");
  {
    auto replica = Replica::Open(path);
    REQUIRE(replica.ok());
    REQUIRE((*replica)->ReplaceWith(*Sample()).ok());
    REQUIRE((*replica)->ApplyRevision(8, Grant("d2")).ok());  // journaled only
  }
  {
    // What an older edge does with the file: reads the tables at 7, catches up by writing 8 and 9
    // into them, never looking at the journal.
    auto db = sqlite::Database::Open(path, false);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("INSERT INTO relations VALUES ('document', 'other', 'viewer', 'user', 'bob', '');"
                     "UPDATE meta SET value = '9' WHERE key = 'revision'")
                .ok());
  }
  auto reopened = Replica::Open(path);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->revision() == 9);
  auto loaded = (*reopened)->Load();
  REQUIRE(loaded.ok());
  CHECK(CanView(**loaded, "other", "bob"));
  CHECK_FALSE(CanView(**loaded, "d2", "bob"));
  REQUIRE((*reopened)->ApplyRevision(10, Grant("d3")).ok());
  reopened->reset();
  auto again = Replica::Open(path);
  REQUIRE(again.ok());
  CHECK((*again)->revision() == 10);
}

TEST_CASE("the journal is folded into the tables after about kFoldRevisions revisions") {
  std::string path = TempPath("fold.db");
  auto replica = Replica::Open(path);
  REQUIRE(replica.ok());
  REQUIRE((*replica)->ReplaceWith(*Sample()).ok());
  uint64_t applied = 0;
  while (applied == 0 || FileSize(path + ".deltas") > 0) {
    REQUIRE(applied < Replica::kFoldRevisions * 3 / 2);
    REQUIRE((*replica)->ApplyRevision(8 + applied, Grant(std::string("f").append(std::to_string(applied)))).ok());
    ++applied;
    (*replica)->FoldIfDue();
  }
  CHECK(applied >= Replica::kFoldRevisions / 2);
  auto loaded = (*replica)->Load();
  REQUIRE(loaded.ok());
  CHECK((**loaded).revision == 7 + applied);
  CHECK((**loaded).directory->relation_count() == 2 + applied);
  replica->reset();
  auto reopened = Replica::Open(path);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->revision() == 7 + applied);
}

TEST_CASE("a damaged file is set aside and replaced by an empty replica") {
  std::string path = TempPath("damaged.db");
  {
    std::ofstream garbage(path, std::ios::binary);
    garbage << std::string(8192, 'x');
  }
  auto replica = Replica::Open(path);
  REQUIRE(replica.ok());
  CHECK((*replica)->discarded());
  CHECK((*replica)->revision() == 0);
  CHECK(std::filesystem::exists(path + ".corrupt"));
}

TEST_CASE("a replica written by a newer schema is refused, not misread") {
  std::string path = TempPath("newer.db");
  { REQUIRE(Replica::Open(path).ok()); }
  {
    auto db = sqlite::Database::Open(path, false);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("UPDATE meta SET value = '99' WHERE key = 'schema'").ok());
  }
  auto reopened = Replica::Open(path);
  REQUIRE_FALSE(reopened.ok());
  CHECK(reopened.status().message() == "replica: schema version 99 is newer than this binary");
}

namespace {

// Flips one byte of the first occurrence of `text` in the file at `path`, with the WAL written
// into it first, as a disk or a stray write would; returns whether it was found.
bool FlipByteOf(const std::string& path, const std::string& text) {
  {
    auto db = sqlite::Database::Open(path, false);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  }
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  size_t at = bytes.find(text);
  if (at == std::string::npos) return false;
  bytes[at + text.size() - 1] ^= 0x03;  // "mallory" -> "mallorz": it sorts where it did
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return true;
}

}  // namespace

TEST_CASE("the content digest follows every kind of write, through folds and reopens") {
  std::string path = TempPath("digest.db");
  {
    auto replica = Replica::Open(path);
    REQUIRE(replica.ok());
    REQUIRE((*replica)->ReplaceWith(*Sample()).ok());
    REQUIRE((*replica)->ApplyRevision(8, {DeltaOp::SetRelation({"document", "d2", "viewer", "user", "bob", ""}),
                                          DeltaOp::SetRelation({"document", "d2", "viewer", "user", "bob", ""}),
                                          DeltaOp::SetObject({"user", "alice", "Alice B", nlohmann::json{{"x", 1}}}),
                                          DeltaOp::SetObject({"user", "bob", "Bob", nlohmann::json::object()}),
                                          DeltaOp::SetPolicy("report.yaml", std::string(kPolicy) + "\n"),
                                          DeltaOp::SetPolicy("other.yaml", kPolicy)})
                .ok());
    REQUIRE((*replica)->ApplyRevision(9, {DeltaOp::DeleteRelation({"group", "eng", "member", "user", "alice", ""}),
                                          DeltaOp::DeleteRelation({"group", "eng", "member", "user", "nobody", ""}),
                                          DeltaOp::DeleteObject("user", "bob"),
                                          DeltaOp::DeleteObject("user", "nobody"),
                                          DeltaOp::DeletePolicy("other.yaml"),
                                          DeltaOp::SetManifest({directory::ManifestSource::Format::kYaml, kManifest,
                                                                "renamed.yaml"})})
                .ok());
  }
  auto reopened = Replica::Open(path);  // folds the journal into the tables
  REQUIRE(reopened.ok());
  CHECK((*reopened)->revision() == 9);
  auto loaded = (*reopened)->Load();
  REQUIRE(loaded.ok());
  CHECK(CanView(**loaded, "d2", "bob"));
  CHECK_FALSE(CanView(**loaded, "d1", "alice"));
}

TEST_CASE("a byte flipped inside a row passes quick_check, but the replica does not load it") {
  std::string path = TempPath("flipped.db");
  {
    auto replica = Replica::Open(path);
    REQUIRE(replica.ok());
    REQUIRE((*replica)->ReplaceWith(*Sample()).ok());
    REQUIRE((*replica)->ApplyRevision(8, {DeltaOp::SetRelation({"document", "d9", "viewer", "user", "mallory", ""})})
                .ok());
  }
  { REQUIRE(Replica::Open(path).ok()); }  // folded: every row is in the tables
  REQUIRE(FlipByteOf(path, "mallory"));
  auto replica = Replica::Open(path);
  REQUIRE(replica.ok());
  CHECK_FALSE((*replica)->discarded());  // SQLite finds nothing wrong
  auto loaded = (*replica)->Load();
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.status().message().find("does not match its checksum") != std::string::npos);
  // A snapshot (the resync) replaces it, and the replica loads again.
  REQUIRE((*replica)->ReplaceWith(*Sample()).ok());
  loaded = (*replica)->Load();
  REQUIRE(loaded.ok());
  CHECK((**loaded).revision == 7);
}

TEST_CASE("a replica from a build without the content digest is taken as it stands and checked from then on") {
  std::string path = TempPath("legacy.db");
  {
    auto replica = Replica::Open(path);
    REQUIRE(replica.ok());
    REQUIRE((*replica)->ReplaceWith(*Sample()).ok());
  }
  {
    auto db = sqlite::Database::Open(path, false);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("DELETE FROM meta WHERE key = 'content_digest'").ok());
  }
  {
    auto replica = Replica::Open(path);
    REQUIRE(replica.ok());
    auto loaded = (*replica)->Load();
    REQUIRE(loaded.ok());
    CHECK(CanView(**loaded, "d1", "alice"));
  }
  REQUIRE(FlipByteOf(path, "alice"));
  auto replica = Replica::Open(path);
  REQUIRE(replica.ok());
  CHECK_FALSE((*replica)->Load().ok());
}

TEST_CASE("a journal past kFoldBytes from one large revision is folded only once revisions stop coming") {
  std::string path = TempPath("quiet.db");
  auto replica = Replica::Open(path);
  REQUIRE(replica.ok());
  REQUIRE((*replica)->ReplaceWith(*Sample()).ok());
  std::vector<DeltaOp> import;
  for (int i = 0; i < 90'000; ++i) {
    import.push_back(DeltaOp::SetRelation({"document", "bulk-" + std::to_string(i), "viewer", "user", "bob", ""}));
  }
  REQUIRE((*replica)->ApplyRevision(8, import).ok());
  REQUIRE(FileSize(path + ".deltas") >= Replica::kFoldBytes);
  // Right after it, the fold would take CPU from whatever else is applying the import: it waits.
  CHECK_FALSE((*replica)->FoldDue());
  (*replica)->FoldIfDue();
  CHECK(FileSize(path + ".deltas") >= Replica::kFoldBytes);
  std::this_thread::sleep_for(Replica::kFoldQuiet + std::chrono::milliseconds(100));
  CHECK((*replica)->FoldDue());
  (*replica)->FoldIfDue();
  CHECK(FileSize(path + ".deltas") == 0);
  auto loaded = (*replica)->Load();
  REQUIRE(loaded.ok());
  CHECK((**loaded).directory->relation_count() == 2 + import.size());
}
