#include "edge/decision_segment.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <random>

#include "common/store/sqlite.h"
#include "edge/decision_spool.h"

using namespace warden;
using namespace warden::edge;

namespace {

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("warden-decision-segment-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  for (const char* suffix : {"", "-wal", "-shm", ".corrupt"}) std::filesystem::remove(path.string() + suffix);
  return path.string();
}

// Entries that repeat some strings and not others, with empty ones, escapes, non-ASCII, a long
// reason, and times that go back as well as forward.
std::vector<DecisionEntry> Entries(size_t count, unsigned seed) {
  std::mt19937 random(seed);
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
  std::vector<DecisionEntry> entries(count);
  int64_t time_ns = 1'795'523'592'000'000'000;
  for (auto& entry : entries) {
    time_ns += pick(3) == 0 ? -pick(1000) : pick(50'000'000);
    entry.time_ns = time_ns;
    entry.revision = static_cast<uint64_t>(pick(4));
    entry.api = static_cast<DecisionApi>(pick(kDecisionApiCount));
    entry.request_id = pick(2) ? "" : "req-" + std::to_string(random());
    entry.subject_type = pick(2) ? "user" : "principal";
    entry.subject_id = "u" + std::to_string(pick(20)) + (pick(5) ? "" : "é\"\n");
    entry.action = pick(2) ? "read" : "can_update_todo";
    entry.resource_type = pick(4) ? "doc" : "";
    entry.resource_id = "d" + std::to_string(pick(1000));
    entry.allowed = pick(2);
    entry.policy = pick(3) ? "resource.doc.vdefault" : "";
    entry.rule = pick(3) ? "readers" : "";
    entry.reason = pick(10) ? "allowed by rule 'readers'" : std::string(400, 'r');
    entry.latency_us = static_cast<uint32_t>(random());
  }
  return entries;
}

std::string Expected(const std::vector<DecisionEntry>& entries, size_t from, size_t count, uint64_t first_sequence) {
  std::string out;
  for (size_t i = from; i < from + count; ++i) {
    AppendEntryText(out, entries[i].View(), "inst", first_sequence + i, 1'000'000);
    out += '\n';
  }
  return out;
}

}  // namespace

TEST_CASE("a compact segment gives back each entry's JSON line, from any entry on") {
  auto entries = Entries(500, 1);
  SegmentEncoder encoder;
  std::string body;
  for (int round = 0; round < 2; ++round) {  // the encoder starts each segment afresh
    encoder.Start(body);
    for (const auto& entry : entries) encoder.Add(body, entry.View());
    CHECK(IsCompactSegment(body));
    for (auto [skip, take] : {std::pair<size_t, size_t>{0, 500}, {0, 1}, {137, 200}, {499, 1}, {250, 0}}) {
      std::string out;
      REQUIRE(DecodeSegment(body, "inst", 41, skip, take, out).ok());
      CHECK(out == Expected(entries, skip, take, 41));
    }
  }
  // Smaller than the same entries as JSON lines: repeated strings are written once.
  CHECK(body.size() * 3 < Expected(entries, 0, entries.size(), 1).size());
}

TEST_CASE("a segment with more distinct strings than the table numbers still round-trips") {
  std::vector<DecisionEntry> entries(2000);
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].subject_id = "s" + std::to_string(i);
    entries[i].resource_id = "r" + std::to_string(i);
    entries[i].request_id = "q" + std::to_string(i);
    entries[i].reason = "why " + std::to_string(i % 3000);
    entries[i].action = "a" + std::to_string(i % 7);
  }
  SegmentEncoder encoder;
  std::string body;
  encoder.Start(body);
  for (const auto& entry : entries) encoder.Add(body, entry.View());
  std::string out;
  REQUIRE(DecodeSegment(body, "inst", 1, 0, entries.size(), out).ok());
  CHECK(out == Expected(entries, 0, entries.size(), 1));
}

TEST_CASE("a damaged compact segment is an error, not a guess") {
  auto entries = Entries(20, 2);
  SegmentEncoder encoder;
  std::string body;
  encoder.Start(body);
  for (const auto& entry : entries) encoder.Add(body, entry.View());
  std::string out;
  CHECK_FALSE(DecodeSegment(body.substr(0, body.size() / 2), "inst", 1, 0, 20, out).ok());
  CHECK_FALSE(DecodeSegment(body, "inst", 1, 0, 21, out).ok());  // more entries than it holds
  CHECK_FALSE(DecodeSegment("{\"a\":1}\n", "inst", 1, 0, 1, out).ok());
}

TEST_CASE("the spool ships compact segments as JSON and forgets acknowledged entries by skipping") {
  std::string path = TempPath("compact.db");
  auto entries = Entries(300, 3);
  SegmentEncoder encoder;
  std::string body;
  {
    auto spool = DecisionSpool::Open(path);
    REQUIRE(spool.ok());
    std::string instance = (*spool)->instance_id();
    for (size_t from : {size_t{0}, size_t{100}}) {  // two segments of 100, then JSON lines
      encoder.Start(body);
      for (size_t i = from; i < from + 100; ++i) encoder.Add(body, entries[i].View());
      REQUIRE((*spool)->Append(body, 100, 0).ok());
    }
    std::vector<std::string> lines;
    for (size_t i = 200; i < 300; ++i) {
      std::string line;
      AppendEntryText(line, entries[i].View(), instance, i + 1, 1'000'000);
      lines.push_back(line);
    }
    REQUIRE((*spool)->Append(lines, 0).ok());
    auto expected = [&](size_t from, size_t count) {
      std::string out;
      for (size_t i = from; i < from + count; ++i) {
        AppendEntryText(out, entries[i].View(), instance, i + 1, 1'000'000);
        out += '\n';
      }
      return out;
    };
    auto batch = (*spool)->Oldest(150);  // a whole segment and half of the next
    REQUIRE(batch.ok());
    CHECK(batch->first == 1);
    CHECK(batch->through == 150);
    CHECK(batch->lines == expected(0, 150));
    REQUIRE((*spool)->Acknowledge(150, 0).ok());
    CHECK((*spool)->size() == 150);
    batch = (*spool)->Oldest(100);  // the rest of the second, half of the JSON lines
    REQUIRE(batch.ok());
    CHECK(batch->first == 151);
    CHECK(batch->lines == expected(150, 100));
    REQUIRE((*spool)->Acknowledge(250, 0).ok());
  }
  auto reopened = DecisionSpool::Open(path);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->size() == 50);
  auto rest = (*reopened)->Oldest(1000);
  REQUIRE(rest.ok());
  CHECK(rest->first == 251);
  CHECK(rest->through == 300);
  CHECK(rest->count == 50);
}

TEST_CASE("a spool from before segments had `skip` is read, and takes the column") {
  std::string path = TempPath("old.db");
  {
    auto db = sqlite::Database::Open(path, /*create=*/true);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
                     "INSERT INTO meta VALUES ('instance_id', 'old-instance'), ('next_sequence', '8'),"
                     " ('dropped_unreported', '2');"
                     "CREATE TABLE segments (first_sequence INTEGER PRIMARY KEY, count INTEGER NOT NULL, "
                     "body TEXT NOT NULL);"
                     "INSERT INTO segments VALUES (5, 3, '{\"n\":5}\n{\"n\":6}\n{\"n\":7}\n');")
                .ok());
  }
  auto spool = DecisionSpool::Open(path);
  REQUIRE(spool.ok());
  CHECK((*spool)->instance_id() == "old-instance");
  CHECK((*spool)->size() == 3);
  REQUIRE((*spool)->Acknowledge(5, 0).ok());
  auto batch = (*spool)->Oldest(10);
  REQUIRE(batch.ok());
  CHECK(batch->first == 6);
  CHECK(batch->lines == "{\"n\":6}\n{\"n\":7}\n");
  CHECK(batch->dropped == 2);
}
