// The fast relation reader may decline anything, but what it accepts the general path
// (nlohmann, then directory::RelationFromJson) must accept as the same tuple.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/directory/data_json.h"
#include "control-plane/relation_scan.h"

using namespace warden;
using control_plane::ScanRelation;
using control_plane::ScanRelationBatch;
using directory::RelationTuple;

namespace {

// What the general path makes of one relation's text, or nullopt when it refuses it.
std::optional<RelationTuple> General(std::string_view text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) return std::nullopt;
  auto r = directory::RelationFromJson(json);
  if (!r.ok()) return std::nullopt;
  return *r;
}

// The property, for one relation's text; true when the fast reader took it.
bool AgreesWithGeneral(std::string_view text) {
  auto fast = ScanRelation(text);
  if (!fast) return false;
  auto general = General(text);
  INFO("text: " << text);
  REQUIRE(general.has_value());
  CHECK(*fast == *general);
  return true;
}

const char* kPlain =
    R"({"object_type":"document","object_id":"d1","relation":"viewer","subject_type":"user","subject_id":"ann"})";

}  // namespace

TEST_CASE("the common shapes are read, as the general path reads them") {
  CHECK(AgreesWithGeneral(kPlain));
  CHECK(AgreesWithGeneral(
      " {\n \"subject_relation\" : \"member\" ,\t\"subject_id\":\"eng\",\"subject_type\":\"group\",\r\n"
      "\"relation\":\"viewer\",\"object_id\":\"d 1\",\"object_type\":\"document\"}  \n"));
  CHECK(AgreesWithGeneral(
      R"({"object_type":"document","object_id":"q\"uote\\back\/slash\n\t\b\f\r","relation":"viewer","subject_type":"user","subject_id":"*","subject_relation":""})"));
  // Well-formed UTF-8 of every length passes through.
  CHECK(AgreesWithGeneral(
      "{\"object_type\":\"document\",\"object_id\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xed\x9f\xbf \xf4\x8f\xbf\xbf\","
      "\"relation\":\"viewer\",\"subject_type\":\"user\",\"subject_id\":\"ann\"}"));
  auto r = ScanRelation(kPlain);
  REQUIRE(r);
  CHECK(r->object_id == "d1");
  CHECK(r->subject_relation.empty());
}

TEST_CASE("anything else is left to the general path") {
  auto with = [](std::string_view member) {
    return R"({"object_type":"document","object_id":"d1","relation":"viewer","subject_type":"user",)" +
           std::string(member) + "}";
  };
  std::vector<std::string> declined = {
      with(R"("subject_id":"ann","subject_id":"bob")"),     // a duplicate key
      with(R"("subject_id":"ann","etag":"x")"),             // bookkeeping, accepted only by the general path
      with(R"("subject_id":"ann","color":"red")"),          // an unknown key
      with(R"("subject_id":"ann","subject_relation":null)"),
      with(R"("subject_id":1)"),
      with(R"("subject_id":"")"),                           // required and empty
      with(R"("subject_id":"a\u0062c")"),                   // \u escapes
      with(R"("subject_id":"a\qc")"),                       // not an escape at all
      with("\"subject_id\":\"a\x01" "b\""),                 // a raw control character
      with("\"subject_id\":\"\xc0\xaf\""),                  // overlong
      with("\"subject_id\":\"\xed\xa0\x80\""),              // a surrogate
      with("\"subject_id\":\"\xf4\x90\x80\x80\""),          // above U+10FFFF
      with("\"subject_id\":\"\xe2\x82\""),                  // truncated
      with(R"("subject_id":"ann",)"),                       // a trailing comma
      with(R"("subject_id":{"id":"ann"})"),
      R"({"object_type":"document","object_id":"d1","relation":"viewer","subject_type":"user"})",
      std::string(kPlain) + " x",
      std::string(kPlain) + std::string(kPlain),
      std::string("\xef\xbb\xbf") + kPlain,                 // a byte-order mark
      "{}", "", "[]", "null",
      std::string(kPlain).substr(0, 40),
  };
  for (const auto& text : declined) {
    INFO("text: " << text);
    CHECK_FALSE(ScanRelation(text).has_value());
  }
}

TEST_CASE("batches: one key, a non-empty array of relations, nothing after") {
  std::string two = std::string(R"( { "relations" : [ )") + kPlain + " , " + kPlain + " ] } ";
  auto batch = ScanRelationBatch(two);
  REQUIRE(batch);
  CHECK(batch->size() == 2);
  CHECK((*batch)[1] == *General(kPlain));
  CHECK_FALSE(ScanRelationBatch(R"({"relations":[]})"));
  CHECK_FALSE(ScanRelationBatch(std::string(R"({"relations":[)") + kPlain + R"(],"x":1})"));
  CHECK_FALSE(ScanRelationBatch(std::string(R"({"relations":[)") + kPlain + R"(]}{})"));
  CHECK_FALSE(ScanRelationBatch(std::string(R"({"relations":[)") + kPlain + R"(,]})"));
  CHECK_FALSE(ScanRelationBatch(std::string(R"({"relations":[)") + kPlain + R"(,{"subject_id":1}]})"));
  CHECK_FALSE(ScanRelationBatch(std::string(R"({"relationz":[)") + kPlain + R"(]})"));
  CHECK_FALSE(ScanRelationBatch(kPlain));
}

TEST_CASE("mutated relations: whatever the fast reader takes, the general path takes the same") {
  // Byte flips, insertions and deletions around a relation that uses escapes and UTF-8, from a
  // fixed seed: a differential check over inputs no one thought to write down.
  const std::string seed =
      "{\"object_type\":\"document\",\"object_id\":\"d\\\"1\xc3\xa9\",\"relation\":\"viewer\","
      "\"subject_type\":\"group\",\"subject_id\":\"eng\\n\",\"subject_relation\":\"member\"}";
  const std::string alphabet =
      std::string("{}[]:,\"\\ \t\nabnu01/") + std::string("\x00\x1f\x7f\x80\xbf\xc2\xe0\xed\xf4\xff", 10);
  std::mt19937 random(7);
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text = seed;
    int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      size_t at = random() % text.size();
      char c = alphabet[random() % alphabet.size()];
      switch (random() % 3) {
        case 0: text[at] = c; break;
        case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        default: text.erase(at, 1); break;
      }
    }
    if (AgreesWithGeneral(text)) ++accepted;
  }
  CHECK(accepted > 100);  // the mutations did not only ever break the shape
}
