// A thin RAII layer over SQLite's C API: a connection and prepared statements whose failures come
// back as Status values naming the SQL that failed.
//
// Shared by the control plane's store and the edge's replica; it knows no schema.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <memory>

#include "common/util/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace warden::sqlite {

class Statement;

class Database {
 public:
  // Opens (creating when `create` is true) the database file at `path`. Unavailable naming the
  // path and SQLite's reason when the file cannot be opened.
  static Result<Database> Open(const std::string& path, bool create);
  // Opens or creates a file that can be rebuilt from elsewhere (a replica, a spool): one that is
  // not a database or fails quick_check is renamed `<path>.corrupt` (kept for inspection) and an
  // empty one takes its place; `*set_aside` says whether that happened.
  static Result<Database> OpenOrSetAside(const std::string& path, bool* set_aside);

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more statements that return no rows. Internal with SQLite's message on failure.
  Status Exec(std::string_view sql);
  // Prepares one statement. Internal with SQLite's message when the SQL is bad.
  Result<Statement> Prepare(std::string_view sql);

  // A statement prepared once and kept for the life of the database, reset with its bindings
  // cleared, ready to bind and run: for statements run per revision or per op, where parsing
  // the SQL again each time would cost more than running it. The pointer stays valid until the
  // database closes; like the database, not for concurrent use.
  Result<Statement*> Cached(std::string_view sql);

  // Whether PRAGMA quick_check finds the file sound (false for a damaged file or not a database).
  bool QuickCheckPasses();
  // PRAGMA quick_check: OK for a sound file, else FailedPrecondition with the first problems it
  // names (or the error that stopped it).
  Status QuickCheck();

  // PRAGMA user_version, the schema version this database was migrated to.
  Result<int> UserVersion();

  int64_t changes() const;
  sqlite3* handle() const { return db_; }

 private:
  explicit Database(sqlite3* db);
  sqlite3* db_ = nullptr;
  std::unique_ptr<std::unordered_map<std::string, Statement>> cache_;
};

// One prepared statement. Bind parameters by 1-based index, Step() through rows, read columns by
// 0-based index. Reset() makes it reusable with new bindings.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int index, std::string_view text);
  // Binds `text` without copying it. REQUIRES: the bytes stay valid and unchanged until the
  // statement has run (Run() clears its bindings) or is rebound or reset: for rows bound from
  // data that outlives the statement, where the copy Bind makes is most of the binding's cost.
  Statement& BindUncopied(int index, std::string_view text);
  Statement& Bind(int index, int64_t value);
  Statement& BindNull(int index);

  // True when a row is ready to read, false when the statement is done; Internal (or
  // ResourceExhausted for SQLITE_FULL, Unavailable for SQLITE_BUSY) naming the SQL on failure.
  Result<bool> Step();
  // Step() for statements that return no rows.
  Status Run();
  void Reset();

  std::string ColumnText(int index) const;
  int64_t ColumnInt(int index) const;
  bool ColumnIsNull(int index) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless Commit() succeeded.
class Transaction {
 public:
  static Result<Transaction> Begin(Database& db);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
};

}  // namespace warden::sqlite
