// DeltaJournal: the replica's append-only file of the revisions applied since its SQLite tables
// were last written (docs/sync-protocol.md, section 8).
//
// Writing each revision into the tables cost a SQLite transaction: locks, B-tree updates, two
// 4 KiB WAL frames and their checksums, about 95 us of an edge's CPU per revision when 10 edges
// followed one control plane on 2 cores, nearly a third of all it did. A revision is instead
// appended here as one record in one write() (durable against a crash of the process as soon as
// that returns, like SQLite's WAL with synchronous=NORMAL; fdatasync'd too with
// --replica-durability full), and the tables take the journal's revisions in one transaction
// every so often (Replica folds it), after which it is emptied.
//
// A record is [u32 payload bytes][u32 CRC-32 of what follows it][u64 epoch][u64 revision]
// [payload], little-endian. The epoch names the tables' content the records follow (the replica
// draws a new one with every snapshot it writes), so records left over from other content are
// never replayed onto it. Reading stops at the first record that is cut short, fails its CRC
// (a power loss can leave a tail of zeros or garbage), or belongs to another epoch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/status.h"

namespace warden::edge {

class DeltaJournal {
 public:
  struct Record {
    uint64_t revision = 0;
    std::string payload;
  };

  // Opens or creates the file at `path`. `sync_each`: fdatasync after every append.
  static Result<std::unique_ptr<DeltaJournal>> Open(const std::string& path, bool sync_each);
  ~DeltaJournal();
  DeltaJournal(const DeltaJournal&) = delete;
  DeltaJournal& operator=(const DeltaJournal&) = delete;

  // The records of `epoch` from the start of the file, up to the first that is damaged or of
  // another epoch; the file is cut back to their end, so later appends follow them. What is cut
  // is logged as a warning (how many bytes, after which revision, and why) and kept in
  // last_discard(): revisions lost there come again from the control plane, but an operator
  // should know a crash or a disk tore the file.
  Result<std::vector<Record>> ReadAndTrim(uint64_t epoch);

  struct Discard {
    uint64_t bytes = 0;         // 0: the last read kept everything
    uint64_t after_revision = 0;  // the last record kept (0: none)
    std::string reason;         // "cut short", "fails its CRC", "of another epoch"
  };
  const Discard& last_discard() const { return last_discard_; }

  // One record to append: its revision and payload.
  struct Entry {
    uint64_t revision = 0;
    std::string_view payload;
  };
  // Appends `entries` with one write (and one fdatasync when asked). On error nothing of them
  // counts: the file is cut back to where it was.
  Status Append(uint64_t epoch, const std::vector<Entry>& entries);

  // Empties the file. Should the truncation fail, the next Append retries it first (and fails
  // when it cannot), so no record is ever written after stale ones.
  Status Clear();

  // The bytes of the records held.
  uint64_t size() const { return size_; }

 private:
  DeltaJournal(int fd, std::string path, bool sync_each) : fd_(fd), path_(std::move(path)), sync_each_(sync_each) {}
  // Makes `size` the end of the records and truncates the file there.
  Status CutTo(uint64_t size);

  int fd_;
  std::string path_;
  bool sync_each_;
  uint64_t size_ = 0;  // where the records end, and the next one goes
  // The file may extend past size_ (a truncation failed): the next append truncates first.
  bool dirty_tail_ = false;
  Discard last_discard_;
};

}  // namespace warden::edge
