#include <doctest/doctest.h>

#include "common/directory/checker.h"
#include "directory_test_util.h"

using namespace warden::directory;
using namespace warden::directory::testing;

TEST_CASE("direct relations, usersets and nested groups") {
  auto s = Build(kDriveManifest, {"group:eng#member@user:alice", "group:all#member@group:eng#member",
                                  "document:d1#viewer@group:all#member", "document:d1#owner@user:bob"});
  CHECK(Allowed(*s, "document:d1#owner@user:bob"));
  CHECK_FALSE(Allowed(*s, "document:d1#owner@user:alice"));
  CHECK(Allowed(*s, "document:d1#viewer@user:alice"));  // two userset hops
  CHECK(Allowed(*s, "document:d1#view@user:alice"));
  CHECK(Allowed(*s, "document:d1#view@user:bob"));  // union: owner
  CHECK_FALSE(Allowed(*s, "document:d1#view@user:carol"));
  CHECK(Allowed(*s, "group:all#member@group:eng#member"));  // a userset subject
  CHECK(Allowed(*s, "document:d1#viewer@group:eng#member"));
  CHECK(Allowed(*s, "group:eng#member@group:eng#member"));  // a userset contains itself
}

TEST_CASE("arrows walk parent folders") {
  auto s = Build(kDriveManifest, {"folder:root#viewer@user:alice", "folder:a#parent@folder:root",
                                  "folder:b#parent@folder:a", "document:d1#parent@folder:b", "folder:a#owner@user:bob"});
  CHECK(Allowed(*s, "document:d1#view@user:alice"));
  CHECK(Allowed(*s, "document:d1#view@user:bob"));  // folder a: owner -> edit -> view, inherited by b
  CHECK(Allowed(*s, "folder:b#edit@user:bob"));
  CHECK_FALSE(Allowed(*s, "folder:root#edit@user:bob"));  // arrows go down the tree only
  CHECK_FALSE(Allowed(*s, "document:d1#edit@user:bob"));  // document edit is owner only
}

TEST_CASE("exclusion and intersection") {
  auto s = Build(kDriveManifest, {"document:d1#viewer@group:g#member", "group:g#member@user:alice",
                                  "group:g#member@user:mallory", "document:d1#banned@user:mallory",
                                  "document:d1#commenter@user:alice", "document:d1#commenter@user:carol"});
  CHECK(Allowed(*s, "document:d1#view@user:alice"));
  CHECK_FALSE(Allowed(*s, "document:d1#view@user:mallory"));  // banned
  CHECK(Allowed(*s, "document:d1#comment@user:alice"));      // view & commenter
  CHECK_FALSE(Allowed(*s, "document:d1#comment@user:carol"));  // commenter without view
  CHECK_FALSE(Allowed(*s, "document:d1#comment@user:mallory"));
}

TEST_CASE("wildcard subjects grant every subject of the type, known or not, minus exclusions") {
  auto s = Build(kDriveManifest, {"document:pub#viewer@user:*", "document:pub#banned@user:mallory"});
  CHECK(Allowed(*s, "document:pub#viewer@user:anyone"));
  CHECK(Allowed(*s, "document:pub#view@user:alice"));
  CHECK_FALSE(Allowed(*s, "document:pub#view@user:mallory"));
  auto r = Check(*s, {"document", "pub", "view", "user", "never-seen-before", "", false});
  REQUIRE(r.ok());
  CHECK(r->allowed);
  CHECK_FALSE(Allowed(*s, "document:pub#view@group:g#member"));  // the wildcard is for plain users only
}

TEST_CASE("a membership cycle terminates with the fixpoint answer") {
  auto s = Build(kDriveManifest, {"group:g1#member@group:g2#member", "group:g2#member@group:g3#member",
                                  "group:g3#member@group:g1#member", "group:g2#member@user:alice",
                                  "document:d#viewer@group:g1#member", "group:g4#member@group:g4#member"});
  for (const char* g : {"g1", "g2", "g3"}) {
    CHECK(Allowed(*s, std::string("group:") + g + "#member@user:alice"));
    CHECK_FALSE(Allowed(*s, std::string("group:") + g + "#member@user:bob"));
  }
  CHECK(Allowed(*s, "document:d#view@user:alice"));
  CHECK_FALSE(Allowed(*s, "document:d#view@user:bob"));
  CHECK_FALSE(Allowed(*s, "group:g4#member@user:alice"));  // a self-loop with no members
}

TEST_CASE("a false answer computed inside a cycle is not cached too early") {
  // Evaluating g1 visits g2, which meets g1 (in progress) and looks false; g2 must not be
  // remembered as false, because g1 later finds bob through g3 and g2 contains g1.
  auto s = Build(kDriveManifest, {"group:g1#member@group:g2#member", "group:g2#member@group:g1#member",
                                  "group:g1#member@group:g3#member", "group:g3#member@user:bob",
                                  "document:d#viewer@group:g2#member", "document:d#viewer@group:g1#member"});
  CHECK(Allowed(*s, "group:g2#member@user:bob"));
  CHECK(Allowed(*s, "document:d#viewer@user:bob"));
  CHECK(Allowed(*s, "group:g1#member@user:bob"));
}

TEST_CASE("depth and fan-out limits are ResourceExhausted") {
  std::vector<std::string> chain;
  for (int i = 0; i < 100; ++i) {
    chain.push_back("group:g" + std::to_string(i) + "#member@group:g" + std::to_string(i + 1) + "#member");
  }
  chain.push_back("group:g100#member@user:alice");
  auto s = Build(kDriveManifest, chain);
  auto r = Check(*s, {"group", "g0", "member", "user", "alice", "", false});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == warden::StatusCode::kResourceExhausted);
  CHECK(r.status().message().find("depth limit of 64") != std::string::npos);
  CheckLimits deep;
  deep.max_depth = 200;
  r = Check(*s, {"group", "g0", "member", "user", "alice", "", false}, deep);
  REQUIRE(r.ok());
  CHECK(r->allowed);
  CheckLimits narrow;
  narrow.max_visits = 10;
  r = Check(*s, {"group", "g50", "member", "user", "bob", "", false}, narrow);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("fan-out limit of 10") != std::string::npos);
}

TEST_CASE("the trace names the granting path, or why none was found") {
  auto s = Build(kDriveManifest, {"group:eng#member@user:alice", "folder:f#viewer@group:eng#member",
                                  "document:d#parent@folder:f"});
  auto r = Check(*s, {"document", "d", "view", "user", "alice", "", true});
  REQUIRE(r.ok());
  CHECK(r->allowed);
  std::vector<std::string> want = {"document:d#view",        "document:d#parent@folder:f", "folder:f#view",
                                   "folder:f#viewer@group:eng#member", "group:eng#member@user:alice"};
  CHECK(r->trace == want);
  r = Check(*s, {"document", "nowhere", "view", "user", "alice", "", true});
  REQUIRE(r.ok());
  CHECK_FALSE(r->allowed);
  REQUIRE(r->trace.size() == 1);
  CHECK(r->trace[0] == "object is not in the directory");
  r = Check(*s, {"document", "d", "edit", "user", "alice", "", true});
  REQUIRE(r.ok());
  REQUIRE(r->trace.size() == 1);
  CHECK(r->trace[0].find("no path grants it") == 0);
}

TEST_CASE("bad names are InvalidArgument naming the field; unknown ids are just not related") {
  auto s = Build(kDriveManifest, {"document:d#owner@user:alice"});
  auto r = Check(*s, {"doc", "d", "view", "user", "alice", "", false});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "object_type: unknown type 'doc'");
  r = Check(*s, {"document", "d", "read", "user", "alice", "", false});
  CHECK(r.status().message() == "relation: type 'document' has no relation or permission 'read'");
  r = Check(*s, {"document", "d", "view", "usr", "alice", "", false});
  CHECK(r.status().message() == "subject_type: unknown type 'usr'");
  r = Check(*s, {"document", "d", "view", "user", "alice", "nope", false});
  CHECK(r.status().message() == "subject_relation: type 'user' has no relation or permission 'nope'");
  r = Check(*s, {"document", "", "view", "user", "alice", "", false});
  CHECK(r.status().message() == "object_id: required");
  r = Check(*s, {"document", "missing", "view", "user", "alice", "", false});
  REQUIRE(r.ok());
  CHECK_FALSE(r->allowed);
}

TEST_CASE("users are found by any identity; the RelationOracle answers for policies") {
  auto builder = DirectorySnapshot::Builder::Create(std::nullopt);  // Topaz's built-in model
  REQUIRE(builder.ok());
  REQUIRE(builder->AddObject({"user", "rick", "Rick Sanchez", {{"roles", {"admin"}}}}).ok());
  REQUIRE(builder->AddRelation(T("identity:rick@the-citadel.com#identifier@user:rick")).ok());
  REQUIRE(builder->AddRelation(T("identity:CiRmZDA2#identifier@user:rick")).ok());
  REQUIRE(builder->AddRelation(T("group:admins#member@user:rick")).ok());
  auto snap = builder->Build(3);
  CHECK(snap->ResolveUser("rick") == std::optional<std::string>("rick"));
  CHECK(snap->ResolveUser("rick@the-citadel.com") == std::optional<std::string>("rick"));
  CHECK(snap->ResolveUser("CiRmZDA2") == std::optional<std::string>("rick"));
  CHECK_FALSE(snap->ResolveUser("morty@the-citadel.com").has_value());
  CHECK(Allowed(*snap, "group:admins#member@user:rick@the-citadel.com"));
  SnapshotRelationOracle oracle(snap);
  auto yes = oracle.Check({"group", "admins"}, "member", {"user", "CiRmZDA2"});
  REQUIRE(yes.ok());
  CHECK(*yes);
  auto no = oracle.Check({"group", "admins"}, "member", {"user", "morty"});
  REQUIRE(no.ok());
  CHECK_FALSE(*no);
  auto bad = oracle.Check({"group", "admins"}, "owner", {"user", "rick"});
  CHECK(bad.status().code() == warden::StatusCode::kInvalidArgument);
}
