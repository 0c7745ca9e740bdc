#include "control-plane/decision_store.h"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <thread>

using namespace warden;
using namespace warden::control_plane;
using nlohmann::json;

namespace {

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("warden-decision-store-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return path.string();
}

json Entry(uint64_t sequence, const std::string& user, bool allowed, const std::string& time) {
  return {{"sequence", sequence}, {"time", time}, {"api", "authzen"}, {"subject", {{"type", "user"}, {"id", user}}},
          {"action", "read"}, {"resource", {{"type", "doc"}, {"id", "d" + std::to_string(sequence)}}},
          {"decision", allowed ? "allow" : "deny"}};
}

}  // namespace

TEST_CASE("RFC 3339 times with fractions and offsets") {
  CHECK(*ParseRfc3339Nanos("1970-01-01T00:00:01Z") == 1'000'000'000);
  CHECK(*ParseRfc3339Nanos("1970-01-01T00:00:01.5Z") == 1'500'000'000);
  CHECK(*ParseRfc3339Nanos("1970-01-01T01:00:00+01:00") == 0);
  CHECK(*ParseRfc3339Nanos("2026-11-24T12:33:12.565241592Z") == 1'795'523'592'565'241'592);
  CHECK_FALSE(ParseRfc3339Nanos("yesterday").ok());
  CHECK_FALSE(ParseRfc3339Nanos("2026-11-24T12:33:12").ok());
  CHECK_FALSE(ParseRfc3339Nanos("2026-11-24T12:33:12.Z").ok());
}

TEST_CASE("a batch sent twice is stored once") {
  auto store = DecisionStore::Open(TempPath("dedup.db"));
  REQUIRE(store.ok());
  json batch = json::array({Entry(1, "ada", true, "2026-11-29T10:00:00Z"), Entry(2, "eve", false, "2026-11-29T10:00:01Z")});
  auto first = (*store)->Ingest({"i1", "key", "group", 0}, batch);
  REQUIRE(first.ok());
  CHECK(first->stored == 2);
  CHECK(first->through == 2);
  auto again = (*store)->Ingest({"i1", "key", "group", 3}, batch);
  REQUIRE(again.ok());
  CHECK(again->stored == 0);
  CHECK(again->duplicates == 2);
  CHECK((*store)->count() == 2);
  CHECK((*store)->dropped_reported() == 3);
  // Another instance's sequence 1 is another entry.
  CHECK((*store)->Ingest({"i2", "key", "group", 0}, json::array({Entry(1, "ada", true, "2026-11-29T10:00:02Z")}))->stored == 1);
}

TEST_CASE("an entry without the optional api is stored, with an empty one") {
  auto store = DecisionStore::Open(TempPath("no-api.db"));
  REQUIRE(store.ok());
  json entry = Entry(1, "ada", true, "2026-11-29T10:00:00Z");
  entry.erase("api");
  auto stored = (*store)->Ingest({"i1", "key", "group", 0}, json::array({entry}));
  REQUIRE(stored.ok());
  CHECK(stored->stored == 1);
  CHECK((*store)->count() == 1);
}

TEST_CASE("a bad entry refuses the whole batch, naming it") {
  auto store = DecisionStore::Open(TempPath("bad.db"));
  REQUIRE(store.ok());
  json bad = Entry(2, "eve", false, "2026-11-29T10:00:01Z");
  bad.erase("decision");
  auto refused = (*store)->Ingest({"i1", "key", "group", 0}, json::array({Entry(1, "ada", true, "2026-11-29T10:00:00Z"), bad}));
  CHECK(refused.status().message().find("entries[1].decision") != std::string::npos);
  CHECK((*store)->count() == 0);
}

TEST_CASE("queries filter, page newest first by cursor, and follow in ingest order") {
  auto store = DecisionStore::Open(TempPath("query.db"));
  REQUIRE(store.ok());
  json batch = json::array();
  for (uint64_t i = 1; i <= 25; ++i) {
    char time[32];
    std::snprintf(time, sizeof time, "2026-11-29T10:00:%02lluZ", static_cast<unsigned long long>(i));
    batch.push_back(Entry(i, i % 5 == 0 ? "eve" : "ada", i % 5 != 0, time));
  }
  REQUIRE((*store)->Ingest({"i1", "key", "group", 0}, batch).ok());
  DecisionQuery query;
  query.subject = "user:eve";
  auto eve = (*store)->Query(query);
  REQUIRE(eve.ok());
  CHECK(eve->entries.size() == 5);
  CHECK(eve->entries.front()["sequence"] == 25);  // newest first
  query = {};
  query.allowed = false;
  CHECK((*store)->Query(query)->entries.size() == 5);
  query = {};
  query.limit = 10;
  std::vector<uint64_t> seen;
  while (true) {
    auto page = (*store)->Query(query);
    REQUIRE(page.ok());
    for (const auto& e : page->entries) seen.push_back(e["sequence"]);
    if (page->next_cursor.empty()) break;
    query.cursor = page->next_cursor;
  }
  REQUIRE(seen.size() == 25);
  CHECK(seen.front() == 25);
  CHECK(seen.back() == 1);
  query = {};
  query.from_ns = *ParseRfc3339Nanos("2026-11-29T10:00:10Z");
  query.to_ns = *ParseRfc3339Nanos("2026-11-29T10:00:20Z");
  CHECK((*store)->Query(query)->entries.size() == 10);
  query = {};
  query.ascending = true;
  query.cursor = "a0.20";
  auto after = (*store)->Query(query);
  REQUIRE(after.ok());
  CHECK(after->entries.size() == 5);
  CHECK(after->entries.front()["id"] == 21);
  query.cursor = "d1.2";  // a newest-first cursor in an ingest-order listing
  CHECK_FALSE((*store)->Query(query).ok());
}

TEST_CASE("retention deletes by age and then the oldest beyond the row bound") {
  auto store = DecisionStore::Open(TempPath("retention.db"));
  REQUIRE(store.ok());
  json batch = json::array({Entry(1, "ada", true, "2001-01-01T00:00:00Z"), Entry(2, "ada", true, "2099-01-01T00:00:00Z"),
                            Entry(3, "ada", true, "2099-01-01T00:00:01Z"), Entry(4, "ada", true, "2099-01-01T00:00:02Z")});
  REQUIRE((*store)->Ingest({"i1", "key", "group", 0}, batch).ok());
  auto deleted = (*store)->EnforceRetention(int64_t{3600} * 1'000'000'000, 2);
  REQUIRE(deleted.ok());
  CHECK(*deleted == 2);  // the 2001 entry by age, then sequence 2 as the oldest beyond two rows
  CHECK((*store)->count() == 2);
  DecisionQuery query;
  auto left = (*store)->Query(query);
  REQUIRE(left.ok());
  CHECK(left->entries.front()["sequence"] == 4);
  CHECK(left->entries.back()["sequence"] == 3);
}

TEST_CASE("batches ingested at once from many threads are each stored once, and each told its own counts") {
  auto store = DecisionStore::Open(TempPath("group.db"));
  REQUIRE(store.ok());
  constexpr int kThreads = 6, kBatches = 15, kRows = 70;  // 70: two full multi-row statements and six single rows
  std::vector<std::string> bodies(kRows), subjects(7);
  for (int i = 0; i < kRows; ++i) bodies[i] = "{\"n\":" + std::to_string(i) + "}";
  for (int i = 0; i < 7; ++i) subjects[i] = "u" + std::to_string(i);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string instance = "i" + std::to_string(t % 3);  // two threads share each instance
      for (int b = 0; b < kBatches; ++b) {
        std::vector<DecisionRow> rows(kRows);
        for (int i = 0; i < kRows; ++i) {
          rows[i].sequence = static_cast<uint64_t>(b * kRows + i + 1);
          rows[i].time_ns = 1'000'000'000LL * (b * kRows + i);
          rows[i].subject_type = "user";
          rows[i].subject_id = subjects[i % 7];
          rows[i].resource_type = "doc";
          rows[i].resource_id = "d";
          rows[i].action = "read";
          rows[i].body = bodies[i];
        }
        auto result = (*store)->IngestRows({instance, "key", "group", 1}, rows);
        if (!result.ok()) MESSAGE(result.status().message());
        if (!result.ok() || result->stored + result->duplicates != kRows ||
            result->through != static_cast<uint64_t>((b + 1) * kRows)) {
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  // Each instance's entries once, whichever of its two threads stored them.
  CHECK((*store)->count() == uint64_t{3} * kBatches * kRows);
  CHECK((*store)->dropped_reported() == uint64_t{kThreads} * kBatches);
  DecisionQuery query;
  query.edge = "i1";
  query.subject = "user:u3";
  query.limit = 1000;
  auto page = (*store)->Query(query);
  REQUIRE(page.ok());
  CHECK(page->entries.size() == static_cast<size_t>(kBatches * 10));  // i % 7 == 3: 10 of each 70
}
