// GCC 12 reports a false -Wrestrict on `"literal" + std::to_string(...)` (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif

#include <doctest/doctest.h>
#include <atomic>
#include <thread>

#include "common/directory/snapshot.h"
#include "directory_test_util.h"

using namespace warden::directory;
using namespace warden::directory::testing;

TEST_CASE("Apply makes a new revision and leaves the old one as it was") {
  auto v1 = Build(kDriveManifest, {"document:d#viewer@user:alice"});
  ChangeBatch batch;
  batch.changes = {Change::SetRelation(T("document:d#viewer@user:bob")),
                   Change::DeleteRelation(T("document:d#viewer@user:alice")),
                   Change::SetObject({"document", "d", "Design doc", {{"team", "eng"}}})};
  auto v2 = v1->Apply(batch);
  REQUIRE_MESSAGE(v2.ok(), v2.status().ToString());
  CHECK((*v2)->revision() == 2);
  CHECK(Allowed(**v2, "document:d#view@user:bob"));
  CHECK_FALSE(Allowed(**v2, "document:d#view@user:alice"));
  CHECK(Allowed(*v1, "document:d#view@user:alice"));
  CHECK_FALSE(Allowed(*v1, "document:d#view@user:bob"));
  CHECK(v1->GetObject("document", "d").status().code() == warden::StatusCode::kNotFound);
  auto obj = (*v2)->GetObject("document", "d");
  REQUIRE(obj.ok());
  CHECK(obj->display_name == "Design doc");
  CHECK(obj->properties["team"] == "eng");

  ChangeBatch del;
  del.revision = 10;
  del.changes = {Change::DeleteObject("document", "d"), Change::DeleteRelation(T("document:d#viewer@user:zed")),
                 Change::DeleteObject("document", "never")};
  auto v10 = (*v2)->Apply(del);
  REQUIRE(v10.ok());
  CHECK((*v10)->revision() == 10);
  CHECK((*v10)->GetObject("document", "d").status().code() == warden::StatusCode::kNotFound);
  CHECK((*v10)->relation_count() == 1);
}

TEST_CASE("a batch is atomic and its errors name the change and the reason") {
  auto v1 = Build(kDriveManifest, {});
  ChangeBatch batch;
  batch.changes = {Change::SetRelation(T("document:d#viewer@user:bob")),
                   Change::SetRelation(T("document:d#viewer@folder:f"))};
  auto r = v1->Apply(batch);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() ==
        "change 1 (relation.set document:d#viewer@folder:f): relation 'document#viewer' does not allow subject "
        "'folder' (allowed: user | user:* | group#member)");
  CHECK(v1->relation_count() == 0);

  batch.changes = {Change::SetRelation(T("document:d#view@user:bob"))};
  CHECK(v1->Apply(batch).status().message() ==
        "change 0 (relation.set document:d#view@user:bob): 'document#view' is a permission; only relations can be written");
  batch.changes = {Change::SetRelation(T("doc:d#viewer@user:bob"))};
  CHECK(v1->Apply(batch).status().message() == "change 0 (relation.set doc:d#viewer@user:bob): unknown object type 'doc'");
  batch.changes = {Change::SetRelation(T("document:d#owner@user:*"))};
  CHECK(v1->Apply(batch).status().message().find("does not allow subject 'user:*'") != std::string::npos);
  batch.changes = {Change::SetObject({"gadget", "x", "", nlohmann::json::object()})};
  CHECK(v1->Apply(batch).status().message() == "change 0 (object.set gadget:x): unknown object type 'gadget'");
  batch.changes = {};
  batch.revision = 1;
  CHECK(v1->Apply(batch).status().code() == warden::StatusCode::kFailedPrecondition);
}

TEST_CASE("manifest.set swaps the model and revalidates the data") {
  auto v1 = Build(kDriveManifest, {"document:d#viewer@user:alice"});
  ChangeBatch batch;
  batch.changes = {Change::SetManifest({ManifestSource::Format::kZed,
                                        "definition user {}\ndefinition document {\n  relation viewer: user\n"
                                        "  relation editor: user\n  permission view = viewer + editor\n}\n",
                                        "schema.zed"}),
                   Change::SetRelation(T("document:d#editor@user:bob"))};
  auto v2 = v1->Apply(batch);
  REQUIRE_MESSAGE(v2.ok(), v2.status().ToString());
  CHECK(Allowed(**v2, "document:d#view@user:alice"));
  CHECK(Allowed(**v2, "document:d#view@user:bob"));
  CHECK((*v2)->manifest_source()->format == ManifestSource::Format::kZed);

  batch.changes = {Change::SetManifest({ManifestSource::Format::kZed,
                                        "definition user {}\ndefinition document {\n  relation owner: user\n}\n", "s.zed"})};
  auto bad = v1->Apply(batch);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        "manifest.set: the data no longer fits the new manifest: document:d#viewer@user:alice: type 'document' has no "
        "relation 'viewer'");
  batch.changes = {Change::SetManifest({ManifestSource::Format::kYaml, "types: [", "m.yaml"})};
  CHECK(v1->Apply(batch).status().message().find("change 0 (manifest.set): m.yaml:1:") == 0);
}

TEST_CASE("relations list with filters and stable cursors") {
  std::vector<std::string> tuples;
  for (int i = 0; i < 25; ++i) tuples.push_back("document:d" + std::to_string(i) + "#viewer@user:alice");
  for (int i = 0; i < 5; ++i) tuples.push_back("document:d0#viewer@user:u" + std::to_string(i));
  tuples.push_back("document:d0#owner@user:bob");
  auto s = Build(kDriveManifest, tuples);
  auto collect = [&](RelationFilter f, size_t page) {
    std::vector<RelationTuple> all;
    std::string cursor;
    int pages = 0;
    do {
      auto p = s->ListRelations(f, page, cursor);
      REQUIRE_MESSAGE(p.ok(), p.status().ToString());
      CHECK(p->relations.size() <= page);
      all.insert(all.end(), p->relations.begin(), p->relations.end());
      cursor = p->next_cursor;
      REQUIRE(++pages < 100);
    } while (!cursor.empty());
    return all;
  };
  CHECK(collect({}, 7).size() == 31);
  CHECK(collect({"document", "d0", "", "", "", ""}, 2).size() == 7);
  CHECK(collect({"document", "d0", "owner", "", "", ""}, 2).size() == 1);
  auto alice = collect({"", "", "", "user", "alice", ""}, 4);
  CHECK(alice.size() == 25);
  for (const auto& r : alice) CHECK(r.subject_id == "alice");
  CHECK(collect({"document", "", "viewer", "user", "", ""}, 10).size() == 30);
  CHECK(collect({"document", "nope", "", "", "", ""}, 10).empty());
  CHECK(s->ListRelations({}, 5, "garbage").status().message() == "cursor: not a cursor returned by this listing");
  CHECK(s->ListRelations({}, 0).status().message() == "page_size: must be between 1 and 10000");
  CHECK(s->ListRelations({"", "unknown-id", "", "", "", ""}).status().message() == "object_id: needs object_type");
  CHECK(s->ListRelations({"", "", "", "", "alice", ""}).status().message() == "subject_id: needs subject_type");
}

TEST_CASE("objects: later records replace earlier ones; listing pages by type") {
  auto b = DirectorySnapshot::Builder::Create(ManifestSource{ManifestSource::Format::kYaml, kDriveManifest, "m"});
  REQUIRE(b.ok());
  REQUIRE(b->AddObject({"user", "alice", "Alice", {{"roles", {"viewer"}}}}).ok());
  REQUIRE(b->AddObject({"user", "alice", "Alice B.", {{"roles", {"admin"}}}}).ok());
  REQUIRE(b->AddObject({"user", "bob", "Bob", nlohmann::json::object()}).ok());
  REQUIRE(b->AddObject({"folder", "f", "F", nlohmann::json::object()}).ok());
  CHECK(b->AddObject({"robot", "r", "", nlohmann::json::object()}).message() == "unknown object type 'robot'");
  CHECK(b->AddObject({"user", "", "", nlohmann::json::object()}).message() == "id is empty");
  auto s = b->Build();
  auto alice = s->GetObject("user", "alice");
  REQUIRE(alice.ok());
  CHECK(alice->display_name == "Alice B.");
  CHECK(alice->properties["roles"][0] == "admin");
  auto users = s->ListObjects("user", 1);
  REQUIRE(users.ok());
  CHECK(users->objects.size() == 1);
  auto rest = s->ListObjects("user", 10, users->next_cursor);
  REQUIRE(rest.ok());
  CHECK(rest->objects.size() == 1);
  CHECK(rest->next_cursor.empty());
  CHECK(s->ListObjects("", 10)->objects.size() == 3);
  CHECK(s->GetObject("robot", "r").status().message() == "object_type: unknown type 'robot'");
}

TEST_CASE("snapshots stay readable after the newer revisions are dropped, and vice versa") {
  auto v1 = Build(kDriveManifest, {"document:d#viewer@user:alice"});
  std::shared_ptr<const DirectorySnapshot> v3;
  {
    ChangeBatch b;
    b.changes = {Change::SetRelation(T("document:d#viewer@user:bob"))};
    auto v2 = v1->Apply(b);
    REQUIRE(v2.ok());
    b.changes = {Change::SetRelation(T("document:d#viewer@user:carol"))};
    auto next = (*v2)->Apply(b);
    REQUIRE(next.ok());
    v3 = *next;
  }
  v1.reset();  // the oldest reader leaves; v3 shares its nodes and must not notice
  CHECK(Allowed(*v3, "document:d#view@user:alice"));
  CHECK(Allowed(*v3, "document:d#view@user:carol"));
  CHECK(v3->relation_count() == 3);
}

TEST_CASE("readers on many threads keep their revision while a writer applies batches") {
  auto base = Build(kDriveManifest, {"group:g#member@user:alice", "document:d#viewer@group:g#member"});
  std::atomic<std::shared_ptr<const DirectorySnapshot>> current(base);
  std::atomic<bool> stop{false};
  std::atomic<int> inconsistent{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto snap = current.load();
        // Revision r holds users u1..u(r-1) as members; every reader must see exactly that.
        uint64_t r = snap->revision();
        for (uint64_t i = 1; i < r; i += 7) {
          auto ok = Check(*snap, {"document", "d", "view", "user", "u" + std::to_string(i), "", false});
          if (!ok.ok() || !ok->allowed) ++inconsistent;
        }
        auto next = Check(*snap, {"document", "d", "view", "user", "u" + std::to_string(r), "", false});
        if (!next.ok() || next->allowed) ++inconsistent;
        ++reads;
      }
    });
  }
  auto snap = base;
  for (int r = 1; r <= 300; ++r) {
    ChangeBatch b;
    b.changes = {Change::SetRelation(T("group:g#member@user:u" + std::to_string(r)))};
    auto next = snap->Apply(b);
    REQUIRE(next.ok());
    snap = *next;
    current.store(snap);
  }
  while (reads.load() < 50) std::this_thread::yield();
  stop = true;
  for (auto& th : readers) th.join();
  CHECK(inconsistent.load() == 0);
  CHECK(snap->revision() == 301);
  CHECK(snap->relation_count() == 302);
}
