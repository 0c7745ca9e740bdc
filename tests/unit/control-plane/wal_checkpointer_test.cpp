// WAL checkpoints off the write path: the thread keeps the log short, the backstop bounds it
// when the thread does not, and nothing committed is lost either way.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "common/store/sqlite.h"
#include "control-plane/store/schema.h"
#include "control-plane/store/store.h"
#include "control-plane/store/wal_checkpointer.h"

namespace fs = std::filesystem;
using namespace warden;
using namespace warden::control_plane;

namespace {

struct TempDb {
  fs::path dir = fs::temp_directory_path() / ("warden-wal-unit-" + RandomHex(6));
  TempDb() { fs::create_directories(dir); }
  ~TempDb() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string path() const { return (dir / "t.db").string(); }
};

// `commits` transactions of about 10 pages each.
void Write(sqlite::Database& db, int commits, int first = 0) {
  std::string blob(40'000, 'x');
  for (int i = first; i < first + commits; ++i) {
    auto stmt = db.Prepare("INSERT INTO t(k, v) VALUES (?1, ?2)");
    REQUIRE(stmt.ok());
    stmt->Bind(1, static_cast<int64_t>(i)).Bind(2, blob);
    REQUIRE(stmt->Run().ok());
  }
}

int64_t Rows(sqlite::Database& db) {
  auto stmt = db.Prepare("SELECT count(*) FROM t");
  REQUIRE(stmt.ok());
  REQUIRE(*stmt->Step());
  return stmt->ColumnInt(0);
}

sqlite::Database OpenWal(const std::string& path) {
  auto db = sqlite::Database::Open(path, true);
  REQUIRE(db.ok());
  REQUIRE(ConfigureConnection(*db).ok());
  REQUIRE(db->Exec("CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v BLOB)").ok());
  return std::move(*db);
}

}  // namespace

TEST_CASE("the thread checkpoints once the log passes the threshold; the backstop bounds the log") {
  TempDb temp;
  auto db = OpenWal(temp.path());
  auto checkpointer = WalCheckpointer::Start(db, temp.path(), /*pages=*/50, /*backstop=*/200);
  REQUIRE(checkpointer.ok());
  // The log is reused only when a write begins with every page checkpointed, which writes back
  // to back may never allow the thread; the backstop's checkpoint, in the writer, always does.
  Write(db, 200);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*checkpointer)->checkpoints() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK((*checkpointer)->checkpoints() > 0);
  // 200 commits of ~10 pages are ~8 MiB of log without checkpoints.
  CHECK(fs::file_size(temp.path() + "-wal") < 2'000'000);
  checkpointer->reset();
  CHECK(Rows(db) == 200);
  auto again = OpenWal(temp.path());
  CHECK(Rows(again) == 200);
}

TEST_CASE("without the thread's help the committing connection checkpoints at the backstop") {
  TempDb temp;
  auto db = OpenWal(temp.path());
  // A threshold never reached: only the backstop acts.
  auto checkpointer = WalCheckpointer::Start(db, temp.path(), /*pages=*/1'000'000'000, /*backstop=*/60);
  REQUIRE(checkpointer.ok());
  Write(db, 200);
  CHECK((*checkpointer)->checkpoints() == 0);
  CHECK(fs::file_size(temp.path() + "-wal") < 2'000'000);
  checkpointer->reset();
  CHECK(Rows(db) == 200);
}

TEST_CASE("a store checkpoints through its own thread and reopens with everything") {
  TempDb temp;
  {
    auto store = Store::Open(temp.path());
    REQUIRE(store.ok());
    std::vector<protocol::DeltaOp> ops;
    for (int i = 0; i < 3000; ++i) {
      ops.push_back(protocol::DeltaOp::SetRelation({"document", "d" + std::to_string(i), "viewer", "user", "u", ""}));
    }
    for (int w = 0; w < 5; ++w) REQUIRE((*store)->Append(ops, "test", nullptr).ok());
    CHECK((*store)->revision() == 5);
  }
  auto store = Store::Open(temp.path());
  REQUIRE(store.ok());
  CHECK((*store)->revision() == 5);
}

TEST_CASE("a log grown by one huge transaction is cut back once it starts over") {
  TempDb temp;
  auto db = OpenWal(temp.path());
  constexpr int64_t kLimit = 1 << 20;
  auto checkpointer = WalCheckpointer::Start(db, temp.path(), /*pages=*/50, /*backstop=*/200, kLimit);
  REQUIRE(checkpointer.ok());
  // About 12 MiB in one transaction: none of it can be checkpointed before the commit.
  REQUIRE(db.Exec("BEGIN").ok());
  Write(db, 300);
  REQUIRE(db.Exec("COMMIT").ok());
  CHECK(fs::file_size(temp.path() + "-wal") > 10'000'000);
  // The commit's backstop checkpoint copies it all; the next writes start the log over.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int next = 300;
  while (fs::file_size(temp.path() + "-wal") > static_cast<uintmax_t>(kLimit) + 200'000 &&
         std::chrono::steady_clock::now() < deadline) {
    Write(db, 1, next++);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(fs::file_size(temp.path() + "-wal") <= static_cast<uintmax_t>(kLimit) + 200'000);
  checkpointer->reset();
  CHECK(Rows(db) == next);
}
