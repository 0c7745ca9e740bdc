#include "control-plane/decision_batch.h"

#include <doctest/doctest.h>

#include <ctime>
#include <random>

using namespace warden;
using namespace warden::control_plane;
using nlohmann::json;

namespace {

const char* kEntry =
    R"({"instance_id":"i-1","sequence":7,"time":"2026-11-29T10:00:00.5Z","revision":2,"api":"authzen",)"
    R"("subject":{"type":"user","id":"ada","properties":{"x":[1,2.5e3,-4,true,null]}},"action":"read",)"
    R"("resource":{"type":"doc","id":"d1"},"decision":"deny","latency_us":12,)"
    R"("reason":"said \"no\" \u00e9\ud83d\ude00 naïve\n"})";

std::string Batch(const std::string& entries, const std::string& instance = "i-1") {
  return R"({"instance_id":")" + instance + R"(","dropped":3,"entries":[)" + entries + "]}";
}

// What the tree path makes of the same text: the rows DecisionStore::Ingest would store.
void CheckSameAsTree(const std::string& text) {
  auto batch = ReadDecisionBatch(text, 64, 10'000);
  REQUIRE(batch.has_value());
  json tree = json::parse(text);  // whatever the reader takes, nlohmann takes
  CHECK(batch->instance_id == tree["instance_id"].get<std::string>());
  CHECK(batch->dropped == (tree["dropped"].is_null() ? 0 : tree["dropped"].get<uint64_t>()));
  REQUIRE(batch->rows.size() == tree["entries"].size());
  for (size_t i = 0; i < batch->rows.size(); ++i) {
    const DecisionRow& row = batch->rows[i];
    const json& entry = tree["entries"][i];
    CHECK(row.sequence == entry["sequence"].get<uint64_t>());
    CHECK(row.time_ns == *ParseRfc3339Nanos(entry["time"].get<std::string>()));
    CHECK(row.api == entry.value("api", std::string()));
    CHECK(row.subject_type == entry["subject"]["type"].get<std::string>());
    CHECK(row.subject_id == entry["subject"]["id"].get<std::string>());
    CHECK(row.action == entry["action"].get<std::string>());
    CHECK(row.resource_type == entry["resource"]["type"].get<std::string>());
    CHECK(row.resource_id == entry["resource"]["id"].get<std::string>());
    CHECK(row.allowed == (entry["decision"] == "allow"));
    CHECK(json::parse(row.body) == entry);  // the entry's own text is the body
  }
}

}  // namespace

TEST_CASE("a well-formed batch is read from its text as the tree path reads it") {
  CheckSameAsTree(Batch(kEntry));
  CheckSameAsTree(Batch(std::string(kEntry) + "," + kEntry));
  CheckSameAsTree(Batch(""));
  // Whitespace anywhere, unknown members anywhere, no instance_id in the entry, null dropped.
  CheckSameAsTree(" {\n\t\"type\" : \"decision_logs\", \"entries\" : [ { \"sequence\" : 1 , \"time\" : "
                  "\"2026-11-29T10:00:00+02:00\", \"subject\" : {\"id\":\"é\", \"type\":\"user\"}, \"action\":\"a\","
                  " \"resource\":{\"type\":\"t\",\"id\":\"\"}, \"decision\":\"allow\", \"extra\": {\"a\": [[], {}]} } ],"
                  " \"dropped\": null, \"instance_id\": \"i-1\" } ");
}

TEST_CASE("what the reader does not take is left to the tree path") {
  auto declined = [](const std::string& text, int max_depth = 64, size_t max_entries = 10'000) {
    return !ReadDecisionBatch(text, max_depth, max_entries).has_value();
  };
  std::string entry = kEntry;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string changed = entry;
    size_t at = changed.find(from);
    REQUIRE(at != std::string::npos);
    return Batch(changed.replace(at, from.size(), to));
  };
  CHECK_FALSE(declined(Batch(entry)));
  // Malformed JSON.
  CHECK(declined(Batch(entry + ",")));
  CHECK(declined(Batch(entry) + "x"));
  CHECK(declined(with("\"ada\"", "\"a\tb\"")));          // a raw control character
  CHECK(declined(with("\"ada\"", "\"a\xc3\"")));         // bad UTF-8
  CHECK(declined(with("\"ada\"", "\"\xed\xa0\x80\"")));  // a surrogate in UTF-8
  CHECK(declined(with("\\ud83d\\ude00", "\\ud83d")));    // a lone surrogate escape
  CHECK(declined(with("\\ud83d\\ude00", "\\ude00")));
  CHECK(declined(with("\\n", "\\x")));
  CHECK(declined(with("2.5e3", "1e999")));  // nlohmann refuses a number that overflows
  CHECK(declined(with("2.5e3", "01")));
  CHECK(declined(with("2.5e3", "1.")));
  CHECK(declined(with("true", "tru")));
  CHECK(declined(""));
  // Fields the store needs: missing, of another kind, escaped, or repeated.
  CHECK(declined(with("\"decision\":\"deny\",", "")));
  CHECK(declined(with("\"deny\"", "\"maybe\"")));
  CHECK(declined(with("\"sequence\":7", "\"sequence\":0")));
  CHECK(declined(with("\"sequence\":7", "\"sequence\":-7")));
  CHECK(declined(with("\"sequence\":7", "\"sequence\":7.0")));
  CHECK(declined(with("\"sequence\":7", "\"sequence\":\"7\"")));
  CHECK(declined(with("\"sequence\":7", "\"sequence\":18446744073709551616")));
  CHECK(declined(with("\"sequence\":7", "\"sequence\":7,\"sequence\":8")));
  CHECK(declined(with("10:00:00.5Z", "10:00:00")));
  CHECK(declined(with("\"ada\"", "\"a\\\"da\"")));  // an escape in an indexed field
  CHECK(declined(with("\"api\":\"authzen\"", "\"api\":1")));
  CHECK(declined(with("\"type\":\"user\",", "")));
  CHECK(declined(with("\"instance_id\":\"i-1\"", "\"instance_id\":\"i-2\"")));
  CHECK(declined(with("\"instance_id\":\"i-1\"", "\"\\u0069nstance_id\":\"i-2\"")));  // an escaped key
  CHECK(declined(Batch(entry, "")));
  CHECK(declined(Batch(entry, std::string(65, 'i'))));
  CHECK(declined(R"({"instance_id":"i-1","dropped":-1,"entries":[]})"));
  CHECK(declined(R"({"instance_id":"i-1","entries":{}})"));
  CHECK(declined(R"({"instance_id":"i-1"})"));
  // Limits: nesting past the server's, more entries than a batch may hold.
  CHECK(declined(Batch(entry), 5));  // properties' array is at depth 6
  CHECK_FALSE(declined(Batch(entry), 6));
  CHECK(declined(Batch(entry + "," + entry), 64, 1));
  CHECK_FALSE(declined(Batch(entry + "," + entry), 64, 2));
}

TEST_CASE("RFC 3339 times count as timegm does, out-of-range fields included") {
  std::mt19937 random(7);
  auto pick = [&](int low, int high) { return std::uniform_int_distribution<int>(low, high)(random); };
  for (int i = 0; i < 20'000; ++i) {
    int year = pick(1700, 2250), month = pick(0, 14), day = pick(0, 32), hour = pick(0, 24), minute = pick(0, 59),
        second = pick(0, 60);
    char text[40];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day, hour, minute, second);
    std::tm utc{};
    utc.tm_year = year - 1900;
    utc.tm_mon = month - 1;
    utc.tm_mday = day;
    utc.tm_hour = hour;
    utc.tm_min = minute;
    utc.tm_sec = second;
    auto parsed = ParseRfc3339Nanos(text);
    REQUIRE(parsed.ok());
    CHECK_MESSAGE(*parsed == static_cast<int64_t>(timegm(&utc)) * 1'000'000'000, text);
  }
  CHECK_FALSE(ParseRfc3339Nanos("2026-1-24T12:33:12Z").ok());
  CHECK_FALSE(ParseRfc3339Nanos("2026-+1-24T12:33:12Z").ok());
  CHECK_FALSE(ParseRfc3339Nanos("2026-11-24T12:33:12+1:00").ok());
  CHECK(*ParseRfc3339Nanos("2026-11-24t12:33:12-01:30") == *ParseRfc3339Nanos("2026-11-24T14:03:12Z"));
}
