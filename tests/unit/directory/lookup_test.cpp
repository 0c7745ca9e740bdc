#include <doctest/doctest.h>

#include "common/directory/lookup.h"
#include "directory_test_util.h"

using namespace warden::directory;
using namespace warden::directory::testing;

namespace {

std::vector<std::string> Resources(const DirectorySnapshot& s, const std::string& user, const std::string& perm,
                                   const std::string& type) {
  auto r = LookupResources(s, {"user", user, "", perm, type, 0, ""});
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return r->ids;
}

std::vector<std::string> Subjects(const DirectorySnapshot& s, const std::string& type, const std::string& id,
                                  const std::string& perm, bool* wildcard = nullptr) {
  auto r = LookupSubjects(s, {type, id, perm, "user", 0, ""});
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  if (wildcard != nullptr) *wildcard = r->wildcard;
  return r->ids;
}

using V = std::vector<std::string>;

const std::vector<std::string> kData = {
    "group:eng#member@user:alice",     "group:all#member@group:eng#member", "group:all#member@user:bob",
    "folder:root#viewer@group:all#member", "folder:sub#parent@folder:root",   "document:d1#parent@folder:sub",
    "document:d2#parent@folder:root",  "document:d3#owner@user:carol",      "document:d2#banned@user:bob",
    "document:d1#commenter@user:alice", "document:d3#commenter@user:alice", "document:pub#viewer@user:*",
    "document:pub#banned@user:carol"};

}  // namespace

TEST_CASE("lookup_resources follows usersets and arrows, and honours exclusion and intersection") {
  auto s = Build(kDriveManifest, kData);
  CHECK(Resources(*s, "alice", "view", "document") == V{"d1", "d2", "pub"});
  CHECK(Resources(*s, "bob", "view", "document") == V{"d1", "pub"});  // banned from d2
  CHECK(Resources(*s, "carol", "view", "document") == V{"d3"});       // banned from the public doc
  CHECK(Resources(*s, "alice", "comment", "document") == V{"d1"});    // d3: commenter without view
  CHECK(Resources(*s, "alice", "view", "folder") == V{"root", "sub"});
  CHECK(Resources(*s, "stranger", "view", "document") == V{"pub"});    // wildcard only
  auto groups = LookupResources(*s, {"group", "eng", "member", "view", "document", 0, ""});
  REQUIRE(groups.ok());
  CHECK(groups->ids == V{"d1", "d2"});  // a userset as the subject
}

TEST_CASE("lookup_subjects expands usersets and wildcards to known subjects") {
  auto s = Build(kDriveManifest, kData);
  CHECK(Subjects(*s, "document", "d1", "view") == V{"alice", "bob"});
  CHECK(Subjects(*s, "document", "d2", "view") == V{"alice"});
  CHECK(Subjects(*s, "document", "d1", "comment") == V{"alice"});
  bool wildcard = false;
  CHECK(Subjects(*s, "document", "pub", "view", &wildcard) == V{"alice", "bob"});  // carol banned
  CHECK(wildcard);
  CHECK(Subjects(*s, "document", "missing", "view").empty());
}

TEST_CASE("lookups page with opaque cursors") {
  std::vector<std::string> tuples;
  for (int i = 0; i < 23; ++i) tuples.push_back("document:doc" + std::to_string(100 + i) + "#viewer@user:alice");
  auto s = Build(kDriveManifest, tuples);
  LookupResourcesRequest req{"user", "alice", "", "view", "document", 10, ""};
  std::vector<std::string> all;
  int pages = 0;
  for (;;) {
    auto r = LookupResources(*s, req);
    REQUIRE(r.ok());
    ++pages;
    all.insert(all.end(), r->ids.begin(), r->ids.end());
    if (r->next_cursor.empty()) break;
    req.cursor = r->next_cursor;
  }
  CHECK(pages == 3);
  CHECK(all.size() == 23);
  CHECK(all.front() == "doc100");
  CHECK(all.back() == "doc122");
  req.cursor = "not-a-cursor";
  CHECK(LookupResources(*s, req).status().message() == "cursor: not a cursor returned by this lookup");
}

TEST_CASE("lookup errors name the field") {
  auto s = Build(kDriveManifest, kData);
  CHECK(LookupResources(*s, {"user", "alice", "", "view", "doc", 0, ""}).status().message() ==
        "object_type: unknown type 'doc'");
  CHECK(LookupResources(*s, {"user", "alice", "", "see", "document", 0, ""}).status().message() ==
        "permission: type 'document' has no relation or permission 'see'");
  CHECK(LookupResources(*s, {"user", "", "", "view", "document", 0, ""}).status().message() == "subject_id: required");
  CHECK(LookupSubjects(*s, {"document", "d1", "view", "robot", 0, ""}).status().message() ==
        "subject_type: unknown type 'robot'");
}

TEST_CASE("expand shows the userset tree one level deep") {
  auto s = Build(kDriveManifest, kData);
  auto tree = Expand(*s, "document", "d2", "view");
  REQUIRE(tree.ok());
  const auto& t = (*tree)["tree"];
  REQUIRE(t.contains("exclusion"));
  const auto& base = t["exclusion"][0]["union"];
  CHECK(base[0]["relation"] == "viewer");
  CHECK(base[2]["arrow"] == "parent->view");
  CHECK(base[2]["subjects"] == nlohmann::json::array({"folder:root#view"}));
  CHECK(t["exclusion"][1]["subjects"] == nlohmann::json::array({"user:bob"}));
  auto rel = Expand(*s, "group", "all", "member");
  REQUIRE(rel.ok());
  CHECK((*rel)["tree"]["subjects"] == nlohmann::json::array({"user:bob", "group:eng#member"}));
  CHECK(Expand(*s, "document", "d2", "nope").status().code() == warden::StatusCode::kInvalidArgument);
}
