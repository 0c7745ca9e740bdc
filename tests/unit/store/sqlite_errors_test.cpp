// How SQLite's failures reach callers: a full disk is StorageFull (HTTP 507), never the 413 a
// request over a limit gets.
#include <doctest/doctest.h>

#include <filesystem>

#include "common/store/sqlite.h"

using namespace warden;

TEST_CASE("a database that cannot grow reports StorageFull and keeps what it held") {
  const auto path = std::filesystem::temp_directory_path() / "warden-sqlite-full-test.db";
  std::filesystem::remove(path);
  {
    auto db = sqlite::Database::Open(path.string(), true);
    REQUIRE(db.ok());
    REQUIRE(db->Exec("CREATE TABLE t (v TEXT)").ok());
    REQUIRE(db->Exec("INSERT INTO t VALUES ('kept')").ok());
    // A page cap stands in for a full disk: SQLite answers SQLITE_FULL either way.
    REQUIRE(db->Exec("PRAGMA max_page_count = 3").ok());
    Status full = Status::Ok();
    for (int i = 0; i < 100 && full.ok(); ++i) {
      full = db->Exec("INSERT INTO t VALUES (printf('%.4000c', 'x'))");
    }
    CHECK(full.code() == StatusCode::kStorageFull);
    CHECK(full.message().find("full") != std::string::npos);
    auto count = db->Prepare("SELECT count(*) FROM t WHERE v = 'kept'");
    REQUIRE(count.ok());
    REQUIRE(count->Step().ok());
    CHECK(count->ColumnInt(0) == 1);
  }
  std::filesystem::remove(path);
}
