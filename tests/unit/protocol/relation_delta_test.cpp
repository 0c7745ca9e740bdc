// The relation-delta reader: what it accepts reads as the general path (a JSON document, then
// OpsFromJson) reads it, and everything else it leaves to that path.
#include "common/protocol/relation_delta.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using warden::protocol::DeltaOp;
using warden::protocol::ParseRelationDelta;

namespace {

// The general path's reading: revision and ops as JSON text, or "" when it would not apply ops.
std::string GeneralReading(std::string_view text) {
  auto message = nlohmann::json::parse(text, nullptr, false);
  if (!message.is_object() || message.value("type", nlohmann::json()) != "delta") return "";
  auto ops = warden::protocol::OpsFromJson(message.value("ops", nlohmann::json::array()));
  if (!ops.ok()) return "";
  uint64_t revision = message.contains("revision") && message["revision"].is_number_unsigned()
                          ? message["revision"].get<uint64_t>()
                          : 0;
  return std::to_string(revision) + " " + warden::protocol::OpsToJson(*ops).dump();
}

std::string FastReading(std::string_view text) {
  uint64_t revision = 0;
  std::vector<DeltaOp> ops;
  if (!ParseRelationDelta(text, revision, ops)) return "";
  return std::to_string(revision) + " " + warden::protocol::OpsToJson(ops).dump();
}

}  // namespace

TEST_CASE("relation deltas read as the general path reads them") {
  for (std::string_view text : {
           R"({"type":"delta","revision":12,"author":"admin","time":"2026-11-29T20:00:00Z","ops":[{"op":"relation.set","relation":{"object_type":"document","object_id":"d1","relation":"viewer","subject_type":"user","subject_id":"ann"}}]})",
           R"( { "ops" : [ { "relation" : { "subject_relation" : "member" , "subject_id" : "eng" , "subject_type" : "group" , "relation" : "viewer" , "object_id" : "d1" , "object_type" : "document" } , "op" : "relation.delete" } ] , "revision" : 0 , "type" : "delta" , "extra" : null , "n" : 7 , "b" : true } )",
           R"({"type":"delta","revision":18446744073709551615,"ops":[]})",
           R"({"type":"delta","revision":3,"ops":[{"op":"relation.set","relation":{"object_type":"a","object_id":"b","relation":"c","subject_type":"d","subject_id":"*","subject_relation":""}},{"op":"relation.delete","relation":{"object_type":"a","object_id":"b","relation":"c","subject_type":"d","subject_id":"e"}}]})",
       }) {
    CAPTURE(text);
    std::string fast = FastReading(text);
    REQUIRE_FALSE(fast.empty());
    CHECK(fast == GeneralReading(text));
  }
}

TEST_CASE("anything else is left to the general path") {
  for (std::string_view text : {
           R"({"type":"heartbeat","revision":1})",
           R"({"type":"delta","revision":1})",                          // no ops: the general path takes []
           R"({"type":"delta","ops":[]})",                              // no revision
           R"({"type":"delta","revision":-1,"ops":[]})",
           R"({"type":"delta","revision":1.0,"ops":[]})",
           R"({"type":"delta","revision":1e3,"ops":[]})",
           R"({"type":"delta","revision":01,"ops":[]})",
           R"({"type":"delta","revision":18446744073709551616,"ops":[]})",
           R"({"type":"delta","type":"delta","revision":1,"ops":[]})",
           R"({"type":"delta","revision":1,"ops":[],"author":{"name":"x"}})",
           R"({"type":"delta","revision":1,"ops":[{"op":"object.set","object":{"type":"user","id":"a"}}]})",
           R"({"type":"delta","revision":1,"ops":[{"op":"relation.set","relation":{"object_type":"a","object_id":"b","relation":"c","subject_type":"d","subject_id":"caf\u00e9"}}]})",
           "{\"type\":\"delta\",\"revision\":1,\"ops\":[{\"op\":\"relation.set\",\"relation\":{\"object_type\":\"a\",\"object_id\":\"b\",\"relation\":\"c\",\"subject_type\":\"d\",\"subject_id\":\"caf\xc3\xa9\"}}]}",
           R"({"type":"delta","revision":1,"ops":[{"op":"relation.set","relation":{"object_type":"a","object_id":"","relation":"c","subject_type":"d","subject_id":"e"}}]})",
           R"({"type":"delta","revision":1,"ops":[{"op":"relation.set","relation":{"object_type":"a","object_id":"b","relation":"c","subject_type":"d"}}]})",
           R"({"type":"delta","revision":1,"ops":[{"op":"relation.set","relation":{"object_type":"a","object_id":"b","relation":"c","subject_type":"d","subject_id":"e","subject_relation":null}}]})",
           R"({"type":"delta","revision":1,"ops":[{"op":"relation.set","relation":{"object_type":"a","object_id":"b","relation":"c","subject_type":"d","subject_id":"e","created_at":"x"}}]})",
           R"({"type":"delta","revision":1,"ops":[{"op":"relation.set","relation":{"object_type":"a","object_type":"a","object_id":"b","relation":"c","subject_type":"d","subject_id":"e"}}]})",
           R"({"type":"delta","revision":1,"ops":[{"op":"relation.set","extra":1,"relation":{"object_type":"a","object_id":"b","relation":"c","subject_type":"d","subject_id":"e"}}]})",
           R"({"type":"delta","revision":1,"ops":[]} trailing)",
           R"({"type":"delta","revision":1,"ops":[],})",
           R"({"type":"delta","revision":1,"ops":[)",
           "",
       }) {
    CAPTURE(text);
    CHECK(FastReading(text).empty());
  }
}

TEST_CASE("a rev_part of relations reads as the general path reads it, with its ops' text") {
  std::string_view text =
      R"({"type":"rev_part","revision":41,"index":2,"ops":[{"op":"relation.set","relation":{"object_type":"document","object_id":"d1","relation":"viewer","subject_type":"user","subject_id":"ann"}}, {"op":"relation.delete","relation":{"object_type":"document","object_id":"d2","relation":"viewer","subject_type":"group","subject_id":"eng","subject_relation":"member"}}]})";
  uint64_t revision = 0, index = 0;
  std::vector<DeltaOp> ops;
  std::string_view ops_text;
  REQUIRE(warden::protocol::ParseRelationPart(text, revision, index, ops, ops_text));
  CHECK(revision == 41);
  CHECK(index == 2);
  auto general = nlohmann::json::parse(text);
  CHECK(warden::protocol::OpsToJson(ops) == warden::protocol::OpsToJson(*warden::protocol::OpsFromJson(general["ops"])));
  CHECK(nlohmann::json::parse(ops_text) == general["ops"]);
  // Not a delta, and a part needs its index; anything else is the general path's.
  CHECK_FALSE(ParseRelationDelta(text, revision, ops));
  CHECK_FALSE(warden::protocol::ParseRelationPart(R"({"type":"rev_part","revision":41,"ops":[]})", revision, index,
                                                  ops, ops_text));
  CHECK_FALSE(warden::protocol::ParseRelationPart(
      R"({"type":"rev_part","revision":41,"index":0,"ops":[{"op":"object.set","object":{"type":"user","id":"a"}}]})",
      revision, index, ops, ops_text));
}
