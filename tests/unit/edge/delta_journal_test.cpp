// The replica's delta journal on its own: records come back as appended, and reading stops at
// the first damaged record or one of another epoch, cutting the file back there.
#include "edge/delta_journal.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

using warden::edge::DeltaJournal;

namespace {

std::string TempJournal(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("warden-journal-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = (dir / name).string();
  std::filesystem::remove(path);
  return path;
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  file.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x20);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(&byte, 1);
}

}  // namespace

TEST_CASE("records come back in order, from one append or several") {
  std::string path = TempJournal("order");
  {
    auto journal = DeltaJournal::Open(path, false);
    REQUIRE(journal.ok());
    REQUIRE((*journal)->Append(7, {{1, "one"}, {2, "two"}}).ok());
    REQUIRE((*journal)->Append(7, {{3, ""}}).ok());
    CHECK((*journal)->size() == std::filesystem::file_size(path));
  }
  auto journal = DeltaJournal::Open(path, true);
  REQUIRE(journal.ok());
  auto records = (*journal)->ReadAndTrim(7);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 3);
  CHECK((*records)[0].revision == 1);
  CHECK((*records)[1].payload == "two");
  CHECK((*records)[2].payload.empty());
  REQUIRE((*journal)->Clear().ok());
  CHECK(std::filesystem::file_size(path) == 0);
}

TEST_CASE("reading stops at a record that fails its CRC, and later appends follow the good ones") {
  std::string path = TempJournal("crc");
  uint64_t first_end = 0;
  {
    auto journal = DeltaJournal::Open(path, false);
    REQUIRE(journal.ok());
    REQUIRE((*journal)->Append(7, {{1, "one"}}).ok());
    first_end = (*journal)->size();
    REQUIRE((*journal)->Append(7, {{2, "two"}, {3, "three"}}).ok());
  }
  FlipByte(path, first_end + 24 + 1);  // inside the second record's payload
  auto journal = DeltaJournal::Open(path, false);
  REQUIRE(journal.ok());
  auto records = (*journal)->ReadAndTrim(7);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 1);
  CHECK(std::filesystem::file_size(path) == first_end);
  CHECK((*journal)->last_discard().after_revision == 1);
  CHECK((*journal)->last_discard().reason == "fails its CRC");
  CHECK((*journal)->last_discard().bytes > 0);
  REQUIRE((*journal)->Append(7, {{2, "again"}}).ok());
  auto again = (*journal)->ReadAndTrim(7);
  REQUIRE(again.ok());
  REQUIRE(again->size() == 2);
  CHECK((*again)[1].payload == "again");
}

TEST_CASE("records of another epoch are not read") {
  std::string path = TempJournal("epoch");
  auto journal = DeltaJournal::Open(path, false);
  REQUIRE(journal.ok());
  REQUIRE((*journal)->Append(7, {{1, "one"}}).ok());
  auto other = (*journal)->ReadAndTrim(8);
  REQUIRE(other.ok());
  CHECK(other->empty());
  CHECK((*journal)->size() == 0);
  CHECK((*journal)->last_discard().reason == "of another epoch");
  // A read that keeps everything says so.
  REQUIRE((*journal)->Append(8, {{2, "two"}}).ok());
  REQUIRE((*journal)->ReadAndTrim(8).ok());
  CHECK((*journal)->last_discard().bytes == 0);
}
