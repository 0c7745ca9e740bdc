#include "edge/decision_log.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "common/util/time_format.h"
#include "edge/decision_spool.h"

using namespace warden;
using namespace warden::edge;

namespace {

// A batch's lines as (sequence, body) pairs.
std::vector<std::pair<uint64_t, std::string>> Entries(const DecisionSpool::Batch& batch) {
  std::vector<std::pair<uint64_t, std::string>> out;
  uint64_t sequence = batch.first;
  size_t start = 0;
  while (start < batch.lines.size()) {
    size_t end = batch.lines.find('\n', start);
    out.emplace_back(sequence++, batch.lines.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("warden-decision-log-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  for (const char* suffix : {"", "-wal", "-shm", ".corrupt"}) std::filesystem::remove(path.string() + suffix);
  return path.string();
}

}  // namespace

TEST_CASE("decision-log modes: one for every API, or per API, and bad ones named") {
  DecisionLogOptions options;
  REQUIRE(ParseDecisionLogModes("all", options).ok());
  CHECK(options.mode == std::array<int, kDecisionApiCount>{{1, 1, 1}});
  REQUIRE(ParseDecisionLogModes("authzen=denies,directory=off", options).ok());
  CHECK(options.mode == std::array<int, kDecisionApiCount>{{2, 1, 0}});
  REQUIRE(ParseDecisionLogModes("sample:0.25", options).ok());
  CHECK(options.sample_rate == doctest::Approx(0.25));
  CHECK(options.mode[0] == 3);
  CHECK(ParseDecisionLogModes("sometimes", options).message().find("'sometimes'") != std::string::npos);
  CHECK(ParseDecisionLogModes("sample:2", options).message().find("(0, 1]") != std::string::npos);
  CHECK(ParseDecisionLogModes("graphql=all", options).message().find("unknown API 'graphql'") != std::string::npos);
  CHECK_FALSE(ParseDecisionLogModes("authzen", options).ok());
}

TEST_CASE("an entry's JSON carries every field and cuts the reason at a character boundary") {
  DecisionEntry entry;
  entry.time_ns = 1'795'523'592'565'241'592;
  entry.revision = 7;
  entry.subject_type = "user";
  entry.subject_id = "ada";
  entry.action = "read";
  entry.resource_type = "doc";
  entry.resource_id = "d1";
  entry.allowed = true;
  entry.reason = "é" + std::string(20, 'x');  // a two-byte character first
  auto json = EntryJson(entry.View(), "instance-1", 42, 1);
  CHECK(json["sequence"] == 42);
  CHECK(json["instance_id"] == "instance-1");
  CHECK(json["decision"] == "allow");
  CHECK(json["subject"] == nlohmann::json({{"type", "user"}, {"id", "ada"}}));
  CHECK(json["time"] == "2026-11-24T12:33:12.565241592Z");
  CHECK_FALSE(json.contains("reason"));  // one byte would split "é": nothing of it fits
  CHECK_FALSE(json.contains("request_id"));
}

TEST_CASE("the spool keeps its instance and sequence across reopening, and forgets what was acknowledged") {
  std::string path = TempPath("spool.db");
  std::string instance;
  {
    auto spool = DecisionSpool::Open(path);
    REQUIRE(spool.ok());
    instance = (*spool)->instance_id();
    CHECK((*spool)->next_sequence() == 1);
    REQUIRE((*spool)->Append({"{\"a\":1}", "{\"a\":2}", "{\"a\":3}"}, 5).ok());
    CHECK((*spool)->size() == 3);
    auto batch = (*spool)->Oldest(2);
    REQUIRE(batch.ok());
    CHECK(batch->count == 2);
    CHECK(Entries(*batch).size() == 2);
    CHECK(batch->through == 2);
    CHECK(batch->dropped == 5);
    REQUIRE((*spool)->Acknowledge(2, 5).ok());
    CHECK((*spool)->size() == 1);
    CHECK((*spool)->dropped_unreported() == 0);
  }
  auto reopened = DecisionSpool::Open(path);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->instance_id() == instance);
  CHECK((*reopened)->next_sequence() == 4);
  CHECK((*reopened)->size() == 1);
  REQUIRE((*reopened)->Append({"{\"a\":4}"}, 0).ok());
  auto batch = (*reopened)->Oldest(10);
  REQUIRE(batch.ok());
  CHECK(batch->first == 3);
  CHECK(batch->through == 4);
  CHECK(Entries(*batch).back() == std::make_pair(uint64_t{4}, std::string("{\"a\":4}")));
}

TEST_CASE("a damaged spool is set aside and a new instance begins") {
  std::string path = TempPath("damaged.db");
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(8192, 'x');
  }
  auto spool = DecisionSpool::Open(path);
  REQUIRE(spool.ok());
  CHECK((*spool)->next_sequence() == 1);
  CHECK_FALSE((*spool)->instance_id().empty());
  CHECK(std::filesystem::exists(path + ".corrupt"));
}

TEST_CASE("the text writer and the JSON writer agree, escapes included") {
  DecisionEntry entry;
  entry.time_ns = 1'795'523'592'000'000'001;
  entry.revision = 3;
  entry.api = DecisionApi::kCerbos;
  entry.request_id = "r\"1\\";
  entry.subject_type = "principal";
  entry.subject_id = "line\nbreak\x01";
  entry.action = "view";
  entry.resource_type = "expense";
  entry.resource_id = "exp-7";
  entry.policy = "resource.expense.vdefault";
  entry.rule = "view";
  entry.reason = "naïve reason";
  entry.latency_us = 17;
  for (size_t cap : {size_t{512}, size_t{3}, size_t{0}}) {
    std::string text;
    AppendEntryText(text, entry.View(), "i-1", 9, cap);
    auto parsed = nlohmann::json::parse(text);
    CHECK(parsed == EntryJson(entry.View(), "i-1", 9, cap));
  }
}

TEST_CASE("an acknowledgement that ends inside a segment keeps the rest of it") {
  std::string path = TempPath("segments.db");
  auto spool = DecisionSpool::Open(path);
  REQUIRE(spool.ok());
  REQUIRE((*spool)->Append({"{\"n\":1}", "{\"n\":2}", "{\"n\":3}"}, 0).ok());
  REQUIRE((*spool)->Append({"{\"n\":4}", "{\"n\":5}"}, 0).ok());
  auto first = (*spool)->Oldest(4);  // crosses the segment boundary
  REQUIRE(first.ok());
  REQUIRE(first->count == 4);
  CHECK(first->through == 4);
  CHECK(Entries(*first)[3] == std::make_pair(uint64_t{4}, std::string("{\"n\":4}")));
  REQUIRE((*spool)->Acknowledge(2, 0).ok());  // inside the first segment
  CHECK((*spool)->size() == 3);
  auto rest = (*spool)->Oldest(10);
  REQUIRE(rest.ok());
  REQUIRE(rest->count == 3);
  REQUIRE(Entries(*rest).size() == 3);
  CHECK(Entries(*rest)[0] == std::make_pair(uint64_t{3}, std::string("{\"n\":3}")));
  CHECK(Entries(*rest)[2].first == 5);
  REQUIRE((*spool)->Acknowledge(5, 0).ok());
  CHECK((*spool)->size() == 0);
  auto reopened = DecisionSpool::Open(path);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->size() == 0);
  CHECK((*reopened)->next_sequence() == 6);
}

TEST_CASE("a packed entry gives back what was packed, inline or in its one overflow block") {
  for (size_t length : {size_t{5}, size_t{300}}) {  // within the inline room, and beyond it
    DecisionEntry entry;
    entry.time_ns = 1'795'523'592'000'000'001;
    entry.revision = 12;
    entry.api = DecisionApi::kDirectory;
    entry.request_id = "req-1";
    entry.subject_type = "user";
    entry.subject_id = std::string(length, 's');
    entry.action = "read";
    entry.resource_type = "doc";
    entry.resource_id = "";
    entry.allowed = true;
    entry.policy = "p";
    entry.rule = "r";
    entry.reason = "xxé" + std::string(10, 'x');  // 3 bytes would split "é"
    entry.latency_us = 99;
    PackedDecision packed;
    packed.Pack(entry.View(), 3);  // the reason is cut as it is packed, at a character boundary
    PackedDecision moved(std::move(packed));
    PackedDecision assigned;
    assigned = std::move(moved);
    DecisionEntryView view = assigned.View();
    CHECK(view.time_ns == entry.time_ns);
    CHECK(view.revision == 12);
    CHECK(view.api == DecisionApi::kDirectory);
    CHECK(view.request_id == "req-1");
    CHECK(view.subject_type == "user");
    CHECK(view.subject_id == entry.subject_id);
    CHECK(view.action == "read");
    CHECK(view.resource_type == "doc");
    CHECK(view.resource_id.empty());
    CHECK(view.allowed);
    CHECK(view.policy == "p");
    CHECK(view.rule == "r");
    CHECK(view.reason == "xx");
    CHECK(view.latency_us == 99);
  }
}

TEST_CASE("entry times are written as RFC 3339 with nanoseconds, second after second") {
  DecisionEntry entry;
  std::string text;
  for (int64_t ns : {int64_t{1'795'523'592'000'000'001}, int64_t{1'795'523'592'999'999'999},
                     int64_t{1'795'523'593'000'000'000}, int64_t{0}}) {
    entry.time_ns = ns;
    text.clear();
    AppendEntryText(text, entry.View(), "i", 1, 512);
    CHECK(nlohmann::json::parse(text)["time"] == Rfc3339Nanos(ns));
  }
}
