// Decision-log limits and damage (issue 17, items 12 and 14): fields cut at a bound and marked,
// batches within a byte bound, damaged segments and files skipped with what they lost counted.
#include <doctest/doctest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/store/sqlite.h"
#include "edge/decision_entry.h"
#include "edge/decision_segment.h"
#include "edge/decision_spool.h"

using namespace warden;
using namespace warden::edge;
using nlohmann::json;

namespace spool_damage_test {

std::string SpoolPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("warden-spool-damage-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  for (const char* suffix : {"", "-wal", "-shm", ".corrupt", ".corrupt-wal"}) {
    std::filesystem::remove(path.string() + suffix);
  }
  return path.string();
}

DecisionEntry SampleEntry(std::string subject_id) {
  DecisionEntry entry;
  entry.time_ns = 1'795'523'592'000'000'000;
  entry.revision = 2;
  entry.subject_type = "user";
  entry.subject_id = std::move(subject_id);
  entry.action = "read";
  entry.resource_type = "doc";
  entry.resource_id = "d1";
  entry.reason = "why";
  return entry;
}

std::vector<json> JsonLinesOf(const std::string& lines) {
  std::vector<json> out;
  size_t start = 0;
  while (start < lines.size()) {
    size_t end = lines.find('\n', start);
    out.push_back(json::parse(lines.substr(start, end - start)));
    start = end + 1;
  }
  return out;
}

// A compact segment of `count` entries whose subject ids are `id_bytes` long.
std::string CompactSegmentOf(size_t count, size_t id_bytes, char fill) {
  SegmentEncoder encoder;
  std::string body;
  encoder.Start(body);
  for (size_t i = 0; i < count; ++i) {
    DecisionEntry entry = SampleEntry(std::string(id_bytes, fill) + std::to_string(i));
    encoder.Add(body, entry.View());
  }
  return body;
}

}  // namespace spool_damage_test

using namespace spool_damage_test;

TEST_CASE("a field over the bound is cut as the entry is packed, at a character boundary, and named") {
  // 3 MB of 'é' (two bytes each): the cut lands between characters, never inside one.
  DecisionEntry entry = SampleEntry(std::string(3 << 20, 'x'));
  entry.resource_id = "r";
  for (int i = 0; i < 20000; ++i) entry.resource_id += "é";
  PackedDecision packed;
  packed.Pack(entry.View(), 512, 16 << 10);
  DecisionEntryView view = packed.View();
  CHECK(view.subject_id.size() == 16 << 10);
  CHECK(view.resource_id.size() == (16 << 10) - 1);  // "r" + 8191 whole characters
  CHECK(view.subject_type == "user");
  std::string text;
  AppendEntryText(text, view, "i", 1, 512);
  json parsed = json::parse(text);  // valid UTF-8, or this throws
  CHECK(parsed["truncated"] == json::array({"/subject/id", "/resource/id"}));
  CHECK(parsed == EntryJson(view, "i", 1, 512));
  // Under the bound, nothing is marked.
  PackedDecision small;
  small.Pack(SampleEntry("ada").View(), 512, 16 << 10);
  std::string plain;
  AppendEntryText(plain, small.View(), "i", 1, 512);
  CHECK(json::parse(plain).count("truncated") == 0);
}

TEST_CASE("the cut mark survives the compact segment, and a segment spooled before the bound ships within it") {
  PackedDecision packed;
  packed.Pack(SampleEntry(std::string(100, 'a')).View(), 512, 40);
  SegmentEncoder encoder;
  std::string body;
  encoder.Start(body);
  encoder.Add(body, packed.View());
  encoder.Add(body, SampleEntry(std::string(5000, 'b')).View());  // as an older edge spooled it: uncut
  std::string out;
  auto decoded = DecodeSegment(body, "i", 1, 0, 2, out, 64);
  REQUIRE(decoded.ok());
  CHECK(*decoded == 2);
  auto lines = JsonLinesOf(out);
  CHECK(lines[0]["subject"]["id"].get<std::string>().size() == 40);
  CHECK(lines[0]["truncated"] == json::array({"/subject/id"}));
  CHECK(lines[1]["subject"]["id"].get<std::string>().size() == 64);
  CHECK(lines[1]["truncated"] == json::array({"/subject/id"}));
}

TEST_CASE("a batch stops at its byte bound, but always holds one entry") {
  std::string path = SpoolPath("bytes.db");
  auto spool = DecisionSpool::Open(path);
  REQUIRE(spool.ok());
  REQUIRE((*spool)->Append(CompactSegmentOf(10, 1000, 'a'), 10, 0).ok());  // ~1.2 KB of JSON each
  auto batch = (*spool)->Oldest({100, 5000, 1 << 20});
  REQUIRE(batch.ok());
  CHECK(batch->count >= 3);
  CHECK(batch->count <= 4);
  CHECK(batch->lines.size() <= 5000);
  CHECK(batch->through == batch->count);
  auto one = (*spool)->Oldest({100, 10, 1 << 20});
  REQUIRE(one.ok());
  CHECK(one->count == 1);
  CHECK(JsonLinesOf(one->lines).size() == 1);
  // The bound on fields applies as the lines are written.
  auto cut = (*spool)->Oldest({2, 1 << 20, 100});
  REQUIRE(cut.ok());
  for (const auto& line : JsonLinesOf(cut->lines)) CHECK(line["subject"]["id"].get<std::string>().size() == 100);
}

TEST_CASE("an old JSON-lines entry over the field bound is cut where it is shipped") {
  std::string path = SpoolPath("json-lines.db");
  auto spool = DecisionSpool::Open(path);
  REQUIRE(spool.ok());
  std::string line;
  AppendEntryText(line, SampleEntry(std::string(50'000, 'z')).View(), (*spool)->instance_id(), 1, 512);
  REQUIRE((*spool)->Append(std::vector<std::string>{line}, 0).ok());
  auto batch = (*spool)->Oldest({10, 1 << 20, 1000});
  REQUIRE(batch.ok());
  auto lines = JsonLinesOf(batch->lines);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["subject"]["id"].get<std::string>().size() == 1000);
  CHECK(lines[0]["truncated"] == json::array({"/subject/id"}));
}

TEST_CASE("a segment whose bytes changed on disk is skipped, and what it held is counted as lost and reported") {
  std::string path = SpoolPath("flipped.db");
  {
    auto spool = DecisionSpool::Open(path);
    REQUIRE(spool.ok());
    REQUIRE((*spool)->Append(CompactSegmentOf(5, 10, 'a'), 5, 0).ok());
    REQUIRE((*spool)->Append(CompactSegmentOf(7, 10, 'b'), 7, 2).ok());
    REQUIRE((*spool)->Append(CompactSegmentOf(3, 10, 'c'), 3, 0).ok());
  }
  {
    // Two bytes flipped inside the second segment's body: still a row SQLite reads without
    // complaint, and one that decodes, so only its checksum tells.
    auto db = sqlite::Database::Open(path, false);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("UPDATE segments SET body = substr(body, 1, 20) || 'XY' || substr(body, 23) "
                     "WHERE first_sequence = 6").ok());
  }
  auto spool = DecisionSpool::Open(path);
  REQUIRE(spool.ok());
  auto batch = (*spool)->Oldest(100);
  REQUIRE(batch.ok());
  CHECK(batch->count == 8);  // the first and the third segment
  CHECK(batch->first == 1);
  CHECK(batch->through == 15);
  auto lines = JsonLinesOf(batch->lines);
  CHECK(lines[4]["sequence"] == 5);
  CHECK(lines[5]["sequence"] == 13);
  CHECK(batch->dropped == 2 + 7);  // the drops before, and the 7 lost
  CHECK(batch->damaged == 7);
  CHECK((*spool)->damaged_total() == 7);
  CHECK((*spool)->size() == 8);
  REQUIRE((*spool)->Acknowledge(batch->through, batch->dropped, batch->damaged).ok());
  CHECK((*spool)->size() == 0);
  CHECK((*spool)->dropped_unreported() == 0);
  CHECK((*spool)->damaged_total() == 7);  // still shown: it is a total
  auto next = (*spool)->Oldest(100);
  REQUIRE(next.ok());
  CHECK(next->count == 0);
  CHECK(next->damaged == 0);
}

// Ten JSON lines of 1,740 bytes: a 17,400-byte body, which SQLite (16 KiB pages) stores as about
// 2 KB in the table's page and the rest on one overflow page of its own.
std::vector<std::string> PageSizedLines(char fill) {
  std::vector<std::string> lines;
  for (int i = 0; i < 10; ++i) {
    std::string line = "{\"n\":" + std::to_string(i) + ",\"pad\":\"";
    line += std::string(1739 - line.size() - 2, fill);
    line += "\"}";
    lines.push_back(std::move(line));
  }
  return lines;
}

TEST_CASE("a truncated spool is set aside and salvaged: its identity kept, the entries it lost counted") {
  std::string path = SpoolPath("truncated.db");
  std::string instance;
  {
    auto spool = DecisionSpool::Open(path);
    REQUIRE(spool.ok());
    instance = (*spool)->instance_id();
    REQUIRE((*spool)->Append(CompactSegmentOf(4, 10, 'a'), 4, 0).ok());  // small: all in the table's page
    REQUIRE((*spool)->Append(PageSizedLines('b'), 1).ok());
    REQUIRE((*spool)->Append(PageSizedLines('c'), 0).ok());
    REQUIRE((*spool)->Acknowledge(2, 0).ok());  // two of the first acknowledged: 22 unshipped
  }
  REQUIRE(std::filesystem::exists(path));
  REQUIRE_FALSE(std::filesystem::exists(path + "-wal"));  // checkpointed at close
  // The schema, meta and segments pages survive; the two overflow pages after them do not.
  REQUIRE(std::filesystem::file_size(path) == 5 * 16384);
  std::filesystem::resize_file(path, 3 * 16384);
  auto spool = DecisionSpool::Open(path);
  REQUIRE(spool.ok());
  CHECK(std::filesystem::exists(path + ".corrupt"));
  CHECK((*spool)->instance_id() == instance);
  CHECK((*spool)->next_sequence() == 25);
  CHECK((*spool)->size() == 2);
  CHECK((*spool)->damaged_total() == 20);
  CHECK((*spool)->dropped_unreported() == 21);
  auto batch = (*spool)->Oldest(100);
  REQUIRE(batch.ok());
  CHECK(batch->first == 3);
  CHECK(batch->through == 4);
  CHECK(batch->damaged == 20);
  // And it goes on: new entries continue the sequence.
  REQUIRE((*spool)->Append(CompactSegmentOf(1, 10, 'd'), 1, 0).ok());
  CHECK((*spool)->next_sequence() == 26);
}

TEST_CASE("a file that is no database at all starts a new instance, with nothing to salvage") {
  std::string path = SpoolPath("garbage.db");
  {
    auto db = sqlite::Database::Open(path, true);
    REQUIRE(db.ok());
  }
  std::filesystem::resize_file(path, 0);
  {
    FILE* out = std::fopen(path.c_str(), "wb");
    REQUIRE(out);
    std::string junk(40000, 'q');
    std::fwrite(junk.data(), 1, junk.size(), out);
    std::fclose(out);
  }
  auto spool = DecisionSpool::Open(path);
  REQUIRE(spool.ok());
  CHECK((*spool)->next_sequence() == 1);
  CHECK((*spool)->size() == 0);
  CHECK(std::filesystem::exists(path + ".corrupt"));
}
