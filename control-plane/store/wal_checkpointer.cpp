#include "control-plane/store/wal_checkpointer.h"

#include <sqlite3.h>

#include <spdlog/spdlog.h>

namespace warden::control_plane {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(sqlite::Database& writer, const std::string& path,
                                                                int pages, int backstop, int64_t log_size_limit) {
  auto own = sqlite::Database::Open(path, /*create=*/false);
  if (!own.ok()) return own.status();
  // FULL: the checkpoint fsyncs the database file before the log may be reused.
  WARDEN_RETURN_IF_ERROR(own->Exec("PRAGMA synchronous=FULL"));
  WARDEN_RETURN_IF_ERROR(own->Exec("PRAGMA busy_timeout=10000"));
  // Whichever connection starts the log over truncates it: the writer, at its next write.
  const std::string size_limit = "PRAGMA journal_size_limit=" + std::to_string(log_size_limit);
  WARDEN_RETURN_IF_ERROR(own->Exec(size_limit));
  WARDEN_RETURN_IF_ERROR(writer.Exec(size_limit));
  std::unique_ptr<WalCheckpointer> checkpointer(new WalCheckpointer(writer, std::move(*own), pages, backstop));
  sqlite3_wal_hook(writer.handle(), &WalCheckpointer::OnCommit, checkpointer.get());
  checkpointer->thread_ = std::thread([raw = checkpointer.get()] { raw->Run(); });
  return checkpointer;
}

WalCheckpointer::WalCheckpointer(sqlite::Database& writer, sqlite::Database own, int pages, int backstop)
    : writer_(writer), own_(std::move(own)), pages_(pages), backstop_(backstop), wake_at_(pages) {}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  // Replaces our hook (a WAL hook is one per connection), so the writer checkpoints as before.
  sqlite3_wal_autocheckpoint(writer_.handle(), kPages);
}

uint64_t WalCheckpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return checkpoints_;
}

int WalCheckpointer::OnCommit(void* self, sqlite3* db, const char* schema, int pages) {
  auto* checkpointer = static_cast<WalCheckpointer*>(self);
  if (pages >= checkpointer->backstop_) {
    // The thread is behind (or stuck): keep the log bounded the way SQLite would.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  bool wake = false;
  {
    std::lock_guard lock(checkpointer->mutex_);
    // A log that shrank was started over; otherwise wake once per `pages_` of growth, not on
    // every commit past the threshold: writes back to back keep the log from starting over, and
    // a checkpoint per commit would copy and fsync the same few pages again and again.
    if (pages < checkpointer->last_pages_) checkpointer->wake_at_ = checkpointer->pages_;
    checkpointer->last_pages_ = pages;
    if (pages >= checkpointer->wake_at_) {
      checkpointer->wake_at_ = pages + checkpointer->pages_;
      checkpointer->due_ = wake = true;
    }
  }
  if (wake) checkpointer->wake_.notify_one();
  return SQLITE_OK;
}

void WalCheckpointer::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return due_ || stopping_; });
    if (stopping_) return;
    due_ = false;
    lock.unlock();
    int log_pages = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(own_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_pages, &copied);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      spdlog::warn("WAL checkpoint failed: {} (the next commit past {} log pages tries again)", sqlite3_errstr(rc),
                   pages_);
    }
    lock.lock();
    if (rc == SQLITE_OK) ++checkpoints_;
  }
}

}  // namespace warden::control_plane
