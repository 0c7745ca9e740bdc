#include <doctest/doctest.h>

#include "common/directory/json_api.h"
#include "directory_test_util.h"

using namespace warden::directory;
using namespace warden::directory::testing;
using nlohmann::json;

namespace {

std::shared_ptr<const DirectorySnapshot> Snap() {
  return Build(kDriveManifest, {"group:eng#member@user:alice", "document:d1#viewer@group:eng#member",
                                "document:d2#owner@user:alice", "document:d2#viewer@user:bob"});
}

std::string Error(const warden::Result<json>& r) { return r.ok() ? "ok" : r.status().message(); }

}  // namespace

TEST_CASE("check requests in Topaz's v3 shape") {
  auto s = Snap();
  auto r = CheckJson(*s, json::parse(R"({"object_type":"document","object_id":"d1","relation":"view",
                                          "subject_type":"user","subject_id":"alice","trace":true})"));
  REQUIRE(r.ok());
  CHECK((*r)["check"] == true);
  CHECK((*r)["trace"] == json::array({"document:d1#view", "document:d1#viewer@group:eng#member",
                                      "group:eng#member@user:alice"}));
  r = CheckJson(*s, json::parse(R"({"object_type":"document","object_id":"d1","relation":"view",
                                     "subject_type":"user","subject_id":"bob"})"));
  REQUIRE(r.ok());
  CHECK((*r)["check"] == false);
  CHECK((*r)["trace"].empty());
  CHECK(Error(CheckJson(*s, json::parse(R"({"object_type":"document","relation":"view","subject_type":"user",
                                             "subject_id":"bob"})"))) == "object_id: required");
  CHECK(Error(CheckJson(*s, json::parse(R"({"object_type":"document","object_id":1,"relation":"view",
                                             "subject_type":"user","subject_id":"bob"})"))) == "object_id: must be a string");
  CHECK(Error(CheckJson(*s, json::parse(R"({"object_type":"document","object_id":"d1","relation":"view",
                                             "subject_type":"user","subject_id":"bob","trace":"yes"})"))) ==
        "trace: must be true or false");
  CHECK(Error(CheckJson(*s, json::parse(R"({"object_type":"document","object_id":"d1","relation":"view",
                                             "subject_type":"user","subject_id":"bob","colour":1})"))) ==
        "colour: unknown field");
  CHECK(Error(CheckJson(*s, json::array())) == "request: must be a JSON object");
}

TEST_CASE("lookups, reads and expand through JSON") {
  auto s = Snap();
  auto r = LookupJson(*s, json::parse(R"({"lookup":"resources","subject_type":"user","subject_id":"alice",
                                           "permission":"view","object_type":"document"})"));
  REQUIRE(r.ok());
  CHECK((*r)["results"] == json::array({"d1", "d2"}));
  CHECK((*r)["next_cursor"] == "");
  r = LookupJson(*s, json::parse(R"({"lookup":"resources","subject_type":"user","subject_id":"alice",
                                      "permission":"view","object_type":"document","page_size":1})"));
  REQUIRE(r.ok());
  CHECK((*r)["results"] == json::array({"d1"}));
  std::string cursor = (*r)["next_cursor"];
  CHECK_FALSE(cursor.empty());
  r = LookupJson(*s, json{{"lookup", "resources"}, {"subject_type", "user"}, {"subject_id", "alice"},
                          {"permission", "view"}, {"object_type", "document"}, {"page_size", 1}, {"cursor", cursor}});
  REQUIRE(r.ok());
  CHECK((*r)["results"] == json::array({"d2"}));
  r = LookupJson(*s, json::parse(R"({"lookup":"subjects","object_type":"document","object_id":"d2",
                                      "permission":"view","subject_type":"user"})"));
  REQUIRE(r.ok());
  CHECK((*r)["results"] == json::array({"alice", "bob"}));
  CHECK(Error(LookupJson(*s, json::parse(R"({"lookup":"things"})"))) ==
        "lookup: must be \"resources\" or \"subjects\", not \"things\"");
  CHECK(Error(LookupJson(*s, json::parse(R"({"lookup":"resources","subject_type":"user","subject_id":"alice",
              "permission":"view","object_type":"document","page_size":-1})"))) ==
        "page_size: must be a non-negative integer");

  auto rel = GetRelationsJson(*s, json::parse(R"({"object_type":"document","object_id":"d2"})"));
  REQUIRE(rel.ok());
  CHECK((*rel)["results"].size() == 2);
  CHECK(Error(GetObjectJson(*s, json::parse(R"({"object_type":"document","object_id":"d2"})"))) ==
        "object document:d2 not found");
  auto exp = DirectoryRequestJson(*s, json::parse(R"({"expand":true,"object_type":"document","object_id":"d2",
                                                     "permission":"edit"})"));
  REQUIRE(exp.ok());
  CHECK((*exp)["tree"].contains("exclusion"));
  auto dispatched = DirectoryRequestJson(*s, json::parse(R"({"object_type":"document","object_id":"d2",
      "relation":"edit","subject_type":"user","subject_id":"alice"})"));
  REQUIRE(dispatched.ok());
  CHECK((*dispatched)["check"] == true);
}

TEST_CASE("objects and identities through JSON") {
  auto b = DirectorySnapshot::Builder::Create(std::nullopt);
  REQUIRE(b.ok());
  REQUIRE(b->AddObject({"user", "rick", "Rick", {{"roles", {"admin"}}}}).ok());
  REQUIRE(b->AddRelation({"identity", "rick@the-citadel.com", "identifier", "user", "rick", ""}).ok());
  auto s = b->Build();
  auto obj = GetObjectJson(*s, json::parse(R"({"object_type":"user","object_id":"rick@the-citadel.com",
                                              "with_relations":true})"));
  REQUIRE_MESSAGE(obj.ok(), obj.status().ToString());
  CHECK((*obj)["result"]["id"] == "rick");
  CHECK((*obj)["result"]["properties"]["roles"][0] == "admin");
  CHECK((*obj)["relations"].size() == 1);
  auto who = ResolveIdentityJson(*s, json::parse(R"({"identity":"rick@the-citadel.com"})"));
  REQUIRE(who.ok());
  CHECK((*who)["user"] == "rick");
  CHECK(ResolveIdentityJson(*s, json::parse(R"({"identity":"nobody"})")).status().code() ==
        warden::StatusCode::kNotFound);
  auto objs = GetObjectsJson(*s, json::parse(R"({"object_type":"user"})"));
  REQUIRE(objs.ok());
  CHECK((*objs)["results"].size() == 1);
}
