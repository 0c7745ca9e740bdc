// The control plane's SQLite store, migrations and write path, on real files in a temp folder.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "common/metrics/registry.h"
#include "control-plane/api_support.h"
#include "control-plane/control_plane.h"
#include "control-plane/store/schema.h"
#include "common/store/sqlite.h"
#include "control-plane/store/store.h"

namespace fs = std::filesystem;
using namespace warden;
using namespace warden::control_plane;
using protocol::DeltaOp;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("warden-cp-unit-" + RandomHex(6));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string db() const { return (path / "store.db").string(); }
};

const char* kManifest =
    "model:\n  version: 3\ntypes:\n  user: {}\n  document:\n    relations:\n      viewer: user\n";

directory::RelationTuple Viewer(const std::string& doc, const std::string& user) {
  return {"document", doc, "viewer", "user", user, ""};
}

}  // namespace

TEST_CASE("a new store gets a UUID store_id and revision 0, kept across opens") {
  TempDir dir;
  std::string id;
  {
    auto store = Store::Open(dir.db());
    REQUIRE(store.ok());
    id = (*store)->store_id();
    CHECK(id.size() == 36);
    CHECK(id[14] == '4');
    CHECK((*store)->revision() == 0);
    CHECK((*store)->migration_backup().empty());
  }
  auto again = Store::Open(dir.db());
  REQUIRE(again.ok());
  CHECK((*again)->store_id() == id);
  CHECK(NewUuid() != NewUuid());
}

TEST_CASE("Append takes consecutive revisions and LoadSnapshot reads back what was written") {
  TempDir dir;
  auto store = Store::Open(dir.db());
  REQUIRE(store.ok());
  directory::ManifestSource manifest{directory::ManifestSource::Format::kYaml, kManifest, "manifest.yaml"};
  auto r1 = (*store)->Append({DeltaOp::SetManifest(manifest)}, "test", nullptr);
  REQUIRE(r1.ok());
  CHECK(*r1 == 1);
  std::vector<policy::SourceDocument> set = {{"p.yaml", "apiVersion: api.cerbos.dev/v1\nresourcePolicy:\n  version: "
                                                        "default\n  resource: document\n  rules:\n    - actions: "
                                                        "[\"view\"]\n      effect: EFFECT_ALLOW\n      roles: [\"user\"]\n"}};
  auto r2 = (*store)->Append({DeltaOp::SetRelation(Viewer("d1", "ann")), DeltaOp::SetRelation(Viewer("d2", "bob")),
                              DeltaOp::SetPolicy(set[0].path, set[0].text)},
                             "test", &set);
  REQUIRE(r2.ok());
  CHECK(*r2 == 2);
  auto r3 = (*store)->Append({DeltaOp::DeleteRelation(Viewer("d2", "bob"))}, "test", nullptr);
  REQUIRE(r3.ok());
  CHECK(*r3 == 3);

  auto snapshot = (*store)->LoadSnapshot();
  REQUIRE(snapshot.ok());
  CHECK((*snapshot)->revision == 3);
  CHECK((*snapshot)->directory->relation_count() == 1);
  CHECK((*snapshot)->policies->policy_count() == 1);
  REQUIRE((*snapshot)->directory->manifest_source());
  CHECK((*snapshot)->directory->manifest_source()->text == kManifest);

  auto changes = (*store)->Changes(1, 10);
  REQUIRE(changes.ok());
  REQUIRE(changes->size() == 2);
  CHECK((*changes)[0].revision == 2);
  CHECK((*changes)[0].ops_json.find("\"relation.set\"") != std::string::npos);
  auto sets = (*store)->PolicySets();
  REQUIRE(sets.ok());
  REQUIRE(sets->size() == 1);
  CHECK((*sets)[0].revision == 2);
  CHECK((*sets)[0].file_count == 1);
  CHECK((*store)->TagPolicySet(2, "stable").ok());
  CHECK((*store)->RevisionOfTag("stable").value() == 2);
  CHECK((*store)->TagPolicySet(3, "x").code() == StatusCode::kNotFound);
  CHECK((*store)->RevisionOfTag("nope").status().code() == StatusCode::kNotFound);
}

TEST_CASE("an empty file or another program's database is refused, and left as it was") {
  TempDir dir;
  { std::FILE* empty = std::fopen(dir.db().c_str(), "w"); REQUIRE(empty != nullptr); std::fclose(empty); }
  auto store = Store::Open(dir.db());
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().message().find("empty (0-byte) file") != std::string::npos);
  CHECK(fs::file_size(dir.db()) == 0);
  fs::remove(dir.db());
  {
    auto db = sqlite::Database::Open(dir.db(), true);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("CREATE TABLE invoices(id INTEGER); INSERT INTO invoices VALUES (1)").ok());
  }
  store = Store::Open(dir.db());
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().message().find("not a Warden store") != std::string::npos);
  auto db = sqlite::Database::Open(dir.db(), false);
  REQUIRE(db.ok());
  auto tables = db->Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'");
  REQUIRE(tables.ok());
  REQUIRE(*tables->Step());
  CHECK(tables->ColumnInt(0) == 1);  // no tables of Warden's were added
}

TEST_CASE("a database newer than the binary is refused with both versions named") {
  TempDir dir;
  {
    auto db = sqlite::Database::Open(dir.db(), true);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("CREATE TABLE t(x); PRAGMA user_version = 7").ok());
  }
  auto store = Store::Open(dir.db());
  REQUIRE(!store.ok());
  CHECK(store.status().code() == StatusCode::kFailedPrecondition);
  CHECK(store.status().message().find("schema version 7") != std::string::npos);
  std::string supported = std::string("(").append(std::to_string(kSchemaVersion)).append(")");
  CHECK(store.status().message().find(supported) != std::string::npos);
}

TEST_CASE("migrating an older database backs it up first") {
  TempDir dir;
  {
    auto store = Store::Open(dir.db());
    REQUIRE(store.ok());
  }
  {
    auto db = sqlite::Database::Open(dir.db(), false);
    REQUIRE(db.ok());
    // Pretend to be version 1: drop what migration 2 adds.
    REQUIRE(db->Exec("DROP TABLE policy_set_tags; DROP TABLE edges; "
                     "PRAGMA user_version = 1")
                .ok());
  }
  auto store = Store::Open(dir.db());
  REQUIRE(store.ok());
  std::string backup = (*store)->migration_backup();
  REQUIRE(!backup.empty());
  CHECK(fs::exists(backup));
  auto old = sqlite::Database::Open(backup, false);
  REQUIRE(old.ok());
  CHECK(old->UserVersion().value() == 1);
  CHECK((*store)->Edges().ok());
}

TEST_CASE("tokens: only hashes are stored and Authenticate matches the right one") {
  TempDir dir;
  metrics::Registry registry;
  auto cp = ControlPlane::Open(dir.db(), "boot", registry);
  REQUIRE(cp.ok());
  auto caller = (*cp)->Authenticate("boot");
  REQUIRE(caller.ok());
  CHECK(caller->scope == Scope::kWrite);
  CHECK(caller->name == "bootstrap");
  auto reader = (*cp)->store().CreateToken("reader", "read");
  REQUIRE(reader.ok());
  CHECK(reader->secret.rfind("wt_", 0) == 0);
  REQUIRE((*cp)->ReloadTokens().ok());
  CHECK((*cp)->Authenticate(reader->secret)->scope == Scope::kRead);
  CHECK(!(*cp)->Authenticate("boo").ok());
  CHECK(!(*cp)->Authenticate("").ok());
  auto hashes = (*cp)->store().TokenHashes();
  REQUIRE(hashes.ok());
  for (const auto& h : *hashes) {
    CHECK(h.sha256.size() == 64);
    CHECK(h.sha256 != "boot");
  }
  CHECK((*cp)->store().CreateToken("again", "write", "boot").status().code() == StatusCode::kAlreadyExists);
  REQUIRE((*cp)->store().DeleteToken(reader->id).ok());
  REQUIRE((*cp)->ReloadTokens().ok());
  CHECK(!(*cp)->Authenticate(reader->secret).ok());
  CHECK((*cp)->store().DeleteToken(reader->id).code() == StatusCode::kNotFound);
}

TEST_CASE("the bootstrap token is ignored once a token exists") {
  TempDir dir;
  metrics::Registry registry;
  { REQUIRE(ControlPlane::Open(dir.db(), "first", registry).ok()); }
  metrics::Registry registry2;
  auto cp = ControlPlane::Open(dir.db(), "second", registry2);
  REQUIRE(cp.ok());
  CHECK((*cp)->Authenticate("first").ok());
  CHECK(!(*cp)->Authenticate("second").ok());
}

TEST_CASE("a refused write stores nothing and takes no revision") {
  TempDir dir;
  metrics::Registry registry;
  auto cp = ControlPlane::Open(dir.db(), "", registry);
  REQUIRE(cp.ok());
  directory::ManifestSource manifest{directory::ManifestSource::Format::kYaml, kManifest, "manifest.yaml"};
  REQUIRE((*cp)->Write({DeltaOp::SetManifest(manifest)}, "t").ok());
  auto bad = (*cp)->Write({DeltaOp::SetRelation(Viewer("d", "a")),
                           DeltaOp::SetRelation({"document", "d", "editor", "user", "a", ""})},
                          "t");
  REQUIRE(!bad.ok());
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK(bad.status().message().find("editor") != std::string::npos);
  CHECK((*cp)->current()->revision == 1);
  CHECK((*cp)->store().revision() == 1);
  CHECK((*cp)->current()->directory->relation_count() == 0);
  auto broken = (*cp)->Write({DeltaOp::SetPolicy("x.yaml", "resourcePolicy: [")}, "t");
  REQUIRE(!broken.ok());
  CHECK(broken.status().message().find("x.yaml") != std::string::npos);
  auto empty = (*cp)->Write(std::vector<DeltaOp>{}, "t");
  REQUIRE(empty.ok());
  CHECK(!empty->changed);
  CHECK(empty->revision == 1);
  // A restart sees exactly the committed state.
  cp->reset();
  metrics::Registry registry2;
  auto reopened = ControlPlane::Open(dir.db(), "", registry2);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->current()->revision == 1);
}

TEST_CASE("concurrent writers get distinct, gap-free revisions") {
  TempDir dir;
  metrics::Registry registry;
  auto cp = ControlPlane::Open(dir.db(), "", registry);
  REQUIRE(cp.ok());
  constexpr int kThreads = 16, kEach = 20;
  std::vector<std::vector<uint64_t>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        directory::RelationTuple r{"group", std::string("g").append(std::to_string(t)), "member", "user",
                                   std::string("u").append(std::to_string(i)), ""};
        auto outcome = (*cp)->Write({DeltaOp::SetRelation(r)}, "t");
        if (outcome.ok()) seen[t].push_back(outcome->revision);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<uint64_t> all;
  for (auto& s : seen) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end());
  REQUIRE(all.size() == kThreads * kEach);
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i] == i + 1);
  auto changes = (*cp)->store().Changes(0, 1000);
  REQUIRE(changes.ok());
  CHECK(changes->size() == kThreads * kEach);
}

TEST_CASE("name, id and path limits name the field") {
  AdminLimits limits;
  CHECK(CheckName("type", "document", limits).ok());
  CHECK(CheckName("type", "", limits).message() == "type: required");
  CHECK(CheckName("type", "a b", limits).message().find("type:") == 0);
  CHECK(CheckName("tag", std::string(65, 'a'), limits).message().find("longer than 64") != std::string::npos);
  CHECK(CheckId("object.id", "alice@example.com", limits).ok());
  CHECK(CheckId("object.id", std::string("a\x01", 2), limits).message().find("control") != std::string::npos);
  CHECK(CheckPolicyPath("path", "team/doc.yaml", limits).ok());
  CHECK(!CheckPolicyPath("path", "../doc.yaml", limits).ok());
  CHECK(!CheckPolicyPath("path", "/abs.yaml", limits).ok());
  CHECK(!CheckPolicyPath("path", "doc.txt", limits).ok());
  CHECK(Rfc3339(0) == "1970-01-01T00:00:00Z");
}

namespace {

// Overwrites the header of the change log's root page in the file at `path` (checkpointed first,
// so the page is read from the file and not from the WAL), as a disk or a stray write would.
void DamageChangeLog(const std::string& path) {
  int64_t root = 0, page_size = 0;
  {
    auto db = sqlite::Database::Open(path, false);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
    auto stmt = db->Prepare("SELECT rootpage FROM sqlite_master WHERE name = 'change_log'");
    REQUIRE(stmt.ok());
    REQUIRE(*stmt->Step());
    root = stmt->ColumnInt(0);
    auto size = db->Prepare("PRAGMA page_size");
    REQUIRE(size.ok());
    REQUIRE(*size->Step());
    page_size = size->ColumnInt(0);
  }
  REQUIRE(root > 1);
  FILE* file = std::fopen(path.c_str(), "r+b");
  REQUIRE(file != nullptr);
  REQUIRE(std::fseek(file, static_cast<long>((root - 1) * page_size), SEEK_SET) == 0);
  const unsigned char garbage[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  REQUIRE(std::fwrite(garbage, 1, sizeof garbage, file) == sizeof garbage);
  std::fclose(file);
}

}  // namespace

TEST_CASE("a store whose file fails quick_check is refused at open, saying what is damaged") {
  TempDir dir;
  {
    auto store = Store::Open(dir.db());
    REQUIRE(store.ok());
    for (int i = 0; i < 20; ++i) {
      REQUIRE((*store)->Append({DeltaOp::SetRelation(Viewer("d" + std::to_string(i), "ann"))}, "test", nullptr).ok());
    }
  }
  DamageChangeLog(dir.db());
  auto reopened = Store::Open(dir.db());
  REQUIRE_FALSE(reopened.ok());
  CHECK(reopened.status().code() == StatusCode::kFailedPrecondition);
  CHECK(reopened.status().message().find("is damaged") != std::string::npos);
  CHECK(reopened.status().message().find("quick_check") != std::string::npos);
  // The control plane refuses it the same way, rather than report ready and fail every write.
  metrics::Registry registry;
  auto cp = ControlPlane::Open(dir.db(), "", registry);
  REQUIRE_FALSE(cp.ok());
  CHECK(cp.status().message().find("is damaged") != std::string::npos);
}
