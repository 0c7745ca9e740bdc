#include "common/store/sqlite.h"

#include <filesystem>

#include <sqlite3.h>

#include <utility>

namespace warden::sqlite {
namespace {

Status ErrorFor(sqlite3* db, int rc, std::string_view what) {
  std::string message = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    // The disk, not the caller's input: not the 413 a ResourceExhausted limit answers.
    case SQLITE_FULL: return Status::StorageFull(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return Status::Unavailable(message);
    case SQLITE_CONSTRAINT: return Status::FailedPrecondition(message);
    default: return Status::Internal(message);
  }
}

}  // namespace

Result<Database> Database::Open(const std::string& path, bool create) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string reason = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::Unavailable("cannot open database " + path + ": " + reason);
  }
  sqlite3_extended_result_codes(db, 1);
  return Database(db);
}

Database::Database(sqlite3* db) : db_(db), cache_(std::make_unique<std::unordered_map<std::string, Statement>>()) {}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), cache_(std::move(other.cache_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    cache_.reset();  // statements are finalized before their connection closes
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    cache_ = std::move(other.cache_);
  }
  return *this;
}

Database::~Database() {
  cache_.reset();
  if (db_) sqlite3_close_v2(db_);
}

Result<Statement*> Database::Cached(std::string_view sql) {
  if (!cache_) cache_ = std::make_unique<std::unordered_map<std::string, Statement>>();
  auto found = cache_->find(std::string(sql));
  if (found != cache_->end()) {
    found->second.Reset();
    return &found->second;
  }
  auto prepared = Prepare(sql);
  if (!prepared.ok()) return prepared.status();
  auto [it, inserted] = cache_->emplace(std::string(sql), std::move(*prepared));
  return &it->second;
}

Status Database::Exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    Status status = ErrorFor(nullptr, rc, "");
    return Status(status.code(), "sqlite: " + message + " (in: " + text.substr(0, 80) + ")");
  }
  return Status::Ok();
}

Result<Statement> Database::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return ErrorFor(db_, rc, "sqlite prepare '" + std::string(sql.substr(0, 80)) + "'");
  return Statement(db_, stmt);
}

Result<Database> Database::OpenOrSetAside(const std::string& path, bool* set_aside) {
  *set_aside = false;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto db = Open(path, /*create=*/true);
    if (db.ok() && db->QuickCheckPasses()) return db;
    if (attempt == 1) break;
    std::error_code error;
    std::filesystem::rename(path, path + ".corrupt", error);
    std::filesystem::remove(path + "-wal", error);
    std::filesystem::remove(path + "-shm", error);
    *set_aside = true;
  }
  return Status::Internal("cannot open or create a database at " + path);
}

bool Database::QuickCheckPasses() { return QuickCheck().ok(); }

Status Database::QuickCheck() {
  // At most this many of its findings are named; a damaged page often yields hundreds.
  constexpr int kShown = 3;
  auto check = Prepare("PRAGMA quick_check(" + std::to_string(kShown) + ")");
  if (!check.ok()) return Status::FailedPrecondition("quick_check: " + check.status().message());
  std::string problems;
  while (true) {
    auto row = check->Step();
    if (!row.ok()) return Status::FailedPrecondition("quick_check: " + row.status().message());
    if (!*row) break;
    std::string line = check->ColumnText(0);
    if (line == "ok") return Status::Ok();
    problems += problems.empty() ? line : "; " + line;
  }
  return Status::FailedPrecondition("quick_check: " + (problems.empty() ? std::string("no answer") : problems));
}

Result<int> Database::UserVersion() {
  auto stmt = Prepare("PRAGMA user_version");
  if (!stmt.ok()) return stmt.status();
  auto row = stmt->Step();
  if (!row.ok()) return row.status();
  return static_cast<int>(stmt->ColumnInt(0));
}

int64_t Database::changes() const { return sqlite3_changes64(db_); }

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::Bind(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Statement& Statement::BindUncopied(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  return *this;
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_);
  return ErrorFor(db_, rc, "sqlite step '" + std::string(sql ? sql : "").substr(0, 80) + "'");
}

Status Statement::Run() {
  auto row = Step();
  Reset();
  if (!row.ok()) return row.status();
  return Status::Ok();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::ColumnText(int index) const {
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  int size = sqlite3_column_bytes(stmt_, index);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size)) : std::string();
}

int64_t Statement::ColumnInt(int index) const { return sqlite3_column_int64(stmt_, index); }

bool Statement::ColumnIsNull(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

Result<Transaction> Transaction::Begin(Database& db) {
  auto begin = db.Cached("BEGIN IMMEDIATE");
  if (!begin.ok()) return begin.status();
  WARDEN_RETURN_IF_ERROR((*begin)->Run());
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (!db_) return;
  auto rollback = db_->Cached("ROLLBACK");
  if (rollback.ok()) (void)(*rollback)->Run();
}

Status Transaction::Commit() {
  auto commit = db_->Cached("COMMIT");
  if (!commit.ok()) return commit.status();
  Status status = (*commit)->Run();
  if (status.ok()) db_ = nullptr;
  return status;
}

}  // namespace warden::sqlite
