// The sync hub's cache of encoded revisions: what it sends equals what the change log holds,
// each revision is read once however many edges ask, and compaction still decides as the log does.
#include <doctest/doctest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/protocol/sync_messages.h"
#include "control-plane/api_support.h"
#include "control-plane/revision_messages.h"
#include "control-plane/store/store.h"

namespace fs = std::filesystem;
using namespace warden;
using namespace warden::control_plane;
using protocol::DeltaOp;

namespace {

struct TempStore {
  fs::path dir = fs::temp_directory_path() / ("warden-revision-messages-" + RandomHex(6));
  std::unique_ptr<Store> store;
  TempStore() {
    fs::create_directories(dir);
    auto opened = Store::Open((dir / "store.db").string());
    REQUIRE(opened.ok());
    store = std::move(*opened);
    directory::ManifestSource manifest{directory::ManifestSource::Format::kYaml,
                                       "model:\n  version: 3\ntypes:\n  user: {}\n  document:\n    relations:\n"
                                       "      viewer: user\n",
                                       "manifest.yaml"};
    REQUIRE(store->Append({DeltaOp::SetManifest(manifest)}, "test", nullptr).ok());
  }
  ~TempStore() {
    store.reset();
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  uint64_t Grant(const std::string& doc) {
    auto revision = store->Append({DeltaOp::SetRelation({"document", doc, "viewer", "user", "ann", ""})}, "test", nullptr);
    REQUIRE(revision.ok());
    return *revision;
  }
};

}  // namespace

TEST_CASE("a revision is encoded as the delta message the change log's entry makes") {
  TempStore s;
  uint64_t granted = s.Grant("d1");
  RevisionMessages recent(64, 1 << 20);
  auto revisions = recent.After(*s.store, granted - 1, 10);
  REQUIRE(revisions.ok());
  REQUIRE(revisions->size() == 1);
  const EncodedRevision& encoded = *(*revisions)[0];
  CHECK(encoded.revision == granted);
  REQUIRE(encoded.messages.size() == 1);
  auto message = nlohmann::json::parse(encoded.messages[0]);
  CHECK(message["type"] == "delta");
  CHECK(message["revision"] == granted);
  CHECK(message["author"] == "test");
  CHECK(message["ops"].size() == 1);
  CHECK(message["ops"][0]["op"] == "relation.set");
  auto changes = s.store->Changes(granted - 1, 10);
  REQUIRE(changes.ok());
  CHECK(encoded.ops_bytes == (*changes)[0].ops_json.size());
  CHECK(EncodeRevision((*changes)[0]).messages == encoded.messages);
}

TEST_CASE("every edge asking for the latest revisions shares one encoding of each") {
  TempStore s;
  RevisionMessages recent(64, 1 << 20);
  uint64_t first = s.Grant("d1");
  s.Grant("d2");
  auto one = recent.After(*s.store, first - 1, 64);
  auto two = recent.After(*s.store, first - 1, 64);
  REQUIRE(one.ok());
  REQUIRE(two.ok());
  REQUIRE(one->size() == 2);
  REQUIRE(two->size() == 2);
  CHECK((*one)[0].get() == (*two)[0].get());  // the same object: encoded once
  CHECK((*one)[1].get() == (*two)[1].get());
  // An edge one revision further on starts inside what is held; `limit` is honoured.
  auto later = recent.After(*s.store, first, 64);
  REQUIRE(later.ok());
  REQUIRE(later->size() == 1);
  CHECK((*later)[0]->revision == first + 1);
  auto limited = recent.After(*s.store, first - 1, 1);
  REQUIRE(limited.ok());
  CHECK(limited->size() == 1);
  // A revision committed after the cache was filled is read and appended.
  uint64_t third = s.Grant("d3");
  auto current = recent.After(*s.store, first + 1, 64);
  REQUIRE(current.ok());
  REQUIRE(current->size() == 1);
  CHECK((*current)[0]->revision == third);
  CHECK(recent.held() == 3);
  // Nothing after the latest: empty.
  auto none = recent.After(*s.store, third, 64);
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("only the newest revisions are kept, and an edge far behind reads the log without evicting them") {
  TempStore s;
  RevisionMessages recent(2, 1 << 20);
  uint64_t first = s.Grant("d1");
  for (int i = 2; i <= 5; ++i) s.Grant(std::string("d").append(std::to_string(i)));  // (not "d" + ...: a false -Wrestrict in GCC 12)
  auto newest = recent.After(*s.store, first + 2, 64);  // the last two
  REQUIRE(newest.ok());
  REQUIRE(newest->size() == 2);
  CHECK(recent.held() == 2);
  auto behind = recent.After(*s.store, first - 1, 2);
  REQUIRE(behind.ok());
  REQUIRE(behind->size() == 2);
  CHECK((*behind)[0]->revision == first);
  CHECK(recent.held() == 2);
  auto again = recent.After(*s.store, first + 2, 64);
  REQUIRE(again.ok());
  CHECK((*again)[0].get() == (*newest)[0].get());
}

TEST_CASE("a revision compacted out of the change log is OutOfRange even when it is held") {
  TempStore s;
  RevisionMessages recent(64, 1 << 20);
  uint64_t first = s.Grant("d1");
  REQUIRE(recent.After(*s.store, first - 1, 64).ok());
  s.store->SetChangeLogRetention(1);
  s.Grant("d2");
  s.Grant("d3");
  auto compacted = recent.After(*s.store, first - 1, 64);
  CHECK(compacted.status().code() == StatusCode::kOutOfRange);
}

TEST_CASE("a revision over 1 MiB is cut between its ops as stored, into parts that hold every op in order") {
  ChangeEntry change;
  change.revision = 9;
  change.author = "import";
  change.created_at = 1'700'000'000;
  std::vector<DeltaOp> ops;
  // Strings with escapes and brackets, so a cut that followed characters rather than JSON would show.
  for (int i = 0; i < 30'000; ++i) {
    ops.push_back(DeltaOp::SetRelation(
        {"document", "d\"{[" + std::to_string(i) + "]}\\", "viewer", "user", "u" + std::to_string(i % 97), ""}));
  }
  ops.push_back(DeltaOp::SetObject({"user", "ann", "Ann ]}", nlohmann::json{{"tags", {"a", "]"}}}}));
  change.ops_json = protocol::OpsToJson(ops).dump();
  REQUIRE(change.ops_json.size() > 2 * protocol::kMaxMessagePayload);

  EncodedRevision encoded = EncodeRevision(change);
  REQUIRE(encoded.messages.size() >= 5);
  auto begin = nlohmann::json::parse(encoded.messages.front());
  CHECK(begin["type"] == "rev_begin");
  CHECK(begin["revision"] == 9);
  CHECK(begin["parts"] == encoded.messages.size() - 2);
  CHECK(nlohmann::json::parse(encoded.messages.back()) == nlohmann::json{{"type", "rev_commit"}, {"revision", 9}});
  nlohmann::json joined = nlohmann::json::array();
  for (size_t i = 1; i + 1 < encoded.messages.size(); ++i) {
    CHECK(encoded.messages[i].size() <= protocol::kMaxMessagePayload + 100);
    auto part = nlohmann::json::parse(encoded.messages[i]);
    CHECK(part["type"] == "rev_part");
    CHECK(part["revision"] == 9);
    CHECK(part["index"] == i - 1);
    REQUIRE(!part["ops"].empty());
    for (auto& op : part["ops"]) joined.push_back(op);
  }
  CHECK(joined == nlohmann::json::parse(change.ops_json));
}
