// Decision-log instances bound to the edge group that first made contact (issue 17, item 13),
// and the spool damage edges report (item 14).
#include <doctest/doctest.h>

#include <filesystem>

#include "common/store/sqlite.h"
#include "control-plane/decision_batch.h"
#include "control-plane/decision_store.h"

using namespace warden;
using namespace warden::control_plane;
using nlohmann::json;

namespace decision_binding_test {

std::string BindingStorePath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("warden-decision-binding-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return path.string();
}

json BoundEntry(uint64_t sequence, const std::string& user) {
  return {{"sequence", sequence}, {"time", "2026-11-29T10:00:00Z"}, {"api", "authzen"},
          {"subject", {{"type", "user"}, {"id", user}}}, {"action", "read"},
          {"resource", {{"type", "doc"}, {"id", "d"}}}, {"decision", "allow"}};
}

std::vector<std::string> StoredSubjects(DecisionStore& store, const std::string& instance) {
  DecisionQuery query;
  query.edge = instance;
  query.ascending = true;
  query.limit = 100;
  auto page = store.Query(query);
  REQUIRE(page.ok());
  std::vector<std::string> out;
  for (const auto& entry : page->entries) out.push_back(entry["subject"]["id"]);
  return out;
}

}  // namespace decision_binding_test

using namespace decision_binding_test;

TEST_CASE("another edge group's key can neither store entries under an instance nor take its sequences") {
  auto store = DecisionStore::Open(BindingStorePath("forge.db"));
  REQUIRE(store.ok());
  REQUIRE((*store)->Ingest({"victim", "key-a1", "group-a", 0}, json::array({BoundEntry(1, "ada")})).ok());
  // The attacker posts at the victim's next sequences with a key of another group.
  auto forged = (*store)->Ingest({"victim", "key-b1", "group-b", 0}, json::array({BoundEntry(2, "mallory"), BoundEntry(3, "m")}));
  REQUIRE_FALSE(forged.ok());
  CHECK(forged.status().code() == StatusCode::kPermissionDenied);
  CHECK(forged.status().message().find("another edge group") != std::string::npos);
  // The same through the group-commit path, in one group with a batch of the rightful owner.
  std::vector<DecisionRow> rows(1);
  rows[0].sequence = 4;
  rows[0].time_ns = 1;
  rows[0].subject_type = "user";
  rows[0].subject_id = "eve";
  rows[0].resource_type = "doc";
  rows[0].resource_id = "d";
  rows[0].action = "read";
  rows[0].body = R"({"subject":{"type":"user","id":"eve"}})";
  CHECK((*store)->IngestRows({"victim", "key-b1", "group-b", 5}, rows).status().code() == StatusCode::kPermissionDenied);
  // The victim's own entries at those sequences are stored, not ignored as duplicates; a second
  // key of its group (a rotation) is the group.
  auto real = (*store)->Ingest({"victim", "key-a2", "group-a", 0}, json::array({BoundEntry(2, "bob"), BoundEntry(3, "cy")}));
  REQUIRE(real.ok());
  CHECK(real->stored == 2);
  CHECK(real->duplicates == 0);
  CHECK(StoredSubjects(**store, "victim") == std::vector<std::string>{"ada", "bob", "cy"});
  CHECK((*store)->dropped_reported() == 0);  // the refused batch's drops were not taken either
}

TEST_CASE("an instance is bound at its first contact, a sync hello, and the binding survives a restart") {
  std::string path = BindingStorePath("hello.db");
  {
    auto store = DecisionStore::Open(path);
    REQUIRE(store.ok());
    REQUIRE((*store)->BindInstance("edge-1", "group-a").ok());
    CHECK((*store)->BindInstance("edge-1", "group-a").ok());
    CHECK((*store)->BindInstance("edge-1", "group-b").code() == StatusCode::kPermissionDenied);
  }
  auto store = DecisionStore::Open(path);
  REQUIRE(store.ok());
  CHECK((*store)->Ingest({"edge-1", "k", "group-b", 0}, json::array({BoundEntry(1, "x")})).status().code() ==
        StatusCode::kPermissionDenied);
  CHECK((*store)->Ingest({"edge-1", "k", "group-a", 0}, json::array({BoundEntry(1, "x")})).ok());
}

TEST_CASE("a store made before bindings is migrated: each instance bound to the group of its first key") {
  std::string path = BindingStorePath("old.db");
  {
    // The schema as it was, with no user_version.
    auto db = sqlite::Database::Open(path, true);
    REQUIRE(db.ok());
    REQUIRE(db->Exec(R"sql(
CREATE TABLE decisions (id INTEGER PRIMARY KEY, instance_id TEXT NOT NULL, sequence INTEGER NOT NULL,
  time_ns INTEGER NOT NULL, ingested_ns INTEGER NOT NULL, key_id TEXT NOT NULL, api TEXT NOT NULL,
  subject TEXT NOT NULL, action TEXT NOT NULL, resource TEXT NOT NULL, allowed INTEGER NOT NULL,
  body TEXT NOT NULL, UNIQUE (instance_id, sequence));
CREATE TABLE drops (instance_id TEXT NOT NULL, reported_ns INTEGER NOT NULL, count INTEGER NOT NULL);
INSERT INTO decisions VALUES (1, 'old-edge', 1, 0, 0, 'key-1', 'authzen', 'user:a', 'read', 'doc:d', 1, '{}');
INSERT INTO decisions VALUES (2, 'old-edge', 2, 0, 0, 'key-9', 'authzen', 'user:a', 'read', 'doc:d', 1, '{}');
INSERT INTO decisions VALUES (3, 'gone-key-edge', 1, 0, 0, 'revoked', 'authzen', 'user:a', 'read', 'doc:d', 1, '{}');
INSERT INTO drops VALUES ('old-edge', 0, 4);
)sql").ok());
  }
  auto store = DecisionStore::Open(path, [](const std::string& key_id) -> std::optional<std::string> {
    if (key_id == "key-1") return "group-a";
    if (key_id == "key-9") return "group-b";
    return std::nullopt;
  });
  REQUIRE(store.ok());
  CHECK((*store)->count() == 3);
  CHECK((*store)->Ingest({"old-edge", "key-9", "group-b", 0}, json::array({BoundEntry(3, "x")})).status().code() ==
        StatusCode::kPermissionDenied);
  CHECK((*store)->Ingest({"old-edge", "key-1", "group-a", 0}, json::array({BoundEntry(3, "x")})).ok());
  // An instance whose first key is gone binds at its next contact.
  CHECK((*store)->Ingest({"gone-key-edge", "key-9", "group-b", 0}, json::array({BoundEntry(2, "y")})).ok());
  std::unordered_map<std::string, DecisionStore::Drops> drops;
  REQUIRE((*store)->DropsByInstance(drops).ok());
  CHECK(drops["old-edge"].dropped == 4);
  CHECK(drops["old-edge"].damaged == 0);
}

TEST_CASE("the drops an edge reports are kept per instance, with the part a damaged spool lost") {
  auto store = DecisionStore::Open(BindingStorePath("drops.db"));
  REQUIRE(store.ok());
  REQUIRE((*store)->Ingest({"e1", "k", "g", 9, 7}, json::array({BoundEntry(1, "a")})).ok());
  REQUIRE((*store)->Ingest({"e1", "k", "g", 1, 0}, json::array({BoundEntry(2, "a")})).ok());
  std::unordered_map<std::string, DecisionStore::Drops> drops;
  REQUIRE((*store)->DropsByInstance(drops).ok());
  CHECK(drops["e1"].dropped == 10);
  CHECK(drops["e1"].damaged == 7);
  // The batch reader takes the field from the text.
  auto batch = ReadDecisionBatch(R"({"instance_id":"e1","dropped":9,"damaged":7,"entries":[]})", 64, 10);
  REQUIRE(batch.has_value());
  CHECK(batch->dropped == 9);
  CHECK(batch->damaged == 7);
  CHECK_FALSE(ReadDecisionBatch(R"({"instance_id":"e1","damaged":1,"damaged":2,"entries":[]})", 64, 10).has_value());
}
