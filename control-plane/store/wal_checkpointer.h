// WalCheckpointer: WAL checkpoints of the store run on their own thread, not inside a write.
//
// SQLite checkpoints a WAL database in whichever connection commits once the log passes 1,000
// pages: with batches of 1,000 relations (about 60 pages each) every 15th or so write also copied
// some 4 MiB of pages into the database file and fsynced it, tens of milliseconds on that one
// write and a third of the mean commit time. Here the writing connection only counts its log's
// pages after each commit (its WAL hook) and wakes a thread that checkpoints through a second
// connection, PASSIVE, so it never blocks the writer.
//
// Durability does not change: a commit is durable in the WAL when it returns (synchronous=FULL);
// a checkpoint only copies committed pages into the database file, and fsyncs it, before the log
// is reused. Once the log holds `backstop` pages the committing connection checkpoints itself, as
// SQLite would have.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/store/sqlite.h"

namespace warden::control_plane {

class WalCheckpointer {
 public:
  static constexpr int kPages = 1000;     // SQLite's own default threshold
  // About 16 MiB of log. SQLite starts the log over only when a write begins with every page of
  // it checkpointed, which back-to-back writes may never give the thread; the backstop's
  // checkpoint, in the writer right after its commit, does. By then the thread has copied most
  // pages, so it is short.
  static constexpr int kBackstop = 4000;
  // One transaction's pages all go to the log before any can be checkpointed, so a 200,000-row
  // import leaves a log of hundreds of MiB. SQLite reuses the file but never shrinks it unless
  // told: once the log starts over, it is cut back to this size.
  static constexpr int64_t kLogSizeLimit = 16 << 20;

  // Opens a second connection to the database at `path` (the file `writer` has open, in WAL
  // mode) and starts the thread; from then on `writer`'s commits wake it once the log holds
  // `pages` pages, and the log file is cut back to `log_size_limit` bytes whenever it starts
  // over. Unavailable when the connection cannot be opened.
  static Result<std::unique_ptr<WalCheckpointer>> Start(sqlite::Database& writer, const std::string& path,
                                                        int pages = kPages, int backstop = kBackstop,
                                                        int64_t log_size_limit = kLogSizeLimit);

  // Stops the thread and gives `writer` back SQLite's own checkpointing. REQUIRES: `writer` is
  // still open and not in use.
  ~WalCheckpointer();

  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Checkpoints completed by the thread (for tests).
  uint64_t checkpoints() const;

 private:
  WalCheckpointer(sqlite::Database& writer, sqlite::Database own, int pages, int backstop);
  static int OnCommit(void* self, sqlite3* db, const char* schema, int pages);
  void Run();

  sqlite::Database& writer_;
  sqlite::Database own_;  // used only by thread_
  const int pages_;
  const int backstop_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool due_ = false;       // GUARDED_BY(mutex_)
  int wake_at_;            // GUARDED_BY(mutex_): the log size that wakes the thread next
  int last_pages_ = 0;     // GUARDED_BY(mutex_): the log size after the last commit
  bool stopping_ = false;  // GUARDED_BY(mutex_)
  uint64_t checkpoints_ = 0;  // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace warden::control_plane
