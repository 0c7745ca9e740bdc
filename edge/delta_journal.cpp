#include "edge/delta_journal.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace warden::edge {

namespace {

constexpr size_t kHeaderBytes = 4 + 4 + 8 + 8;
// A record larger than this is damage, not a revision (the hub's messages are at most 16 MiB,
// and a revision sent in parts is journaled as its ops alone).
constexpr uint32_t kMaxPayload = 1u << 30;

std::string Errno(const std::string& what, const std::string& path) {
  return "delta journal " + path + ": " + what + ": " + std::strerror(errno);
}

void PutU32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
void PutU64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
uint64_t GetLittleEndian(const char* bytes, int count) {
  uint64_t value = 0;
  for (int i = count - 1; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

// The CRC-32 of a record's epoch, revision and payload.
uint32_t RecordCrc(std::string_view after_crc) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(after_crc.data()), static_cast<uInt>(after_crc.size())));
}

}  // namespace

Result<std::unique_ptr<DeltaJournal>> DeltaJournal::Open(const std::string& path, bool sync_each) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::Unavailable(Errno("cannot open", path));
  std::unique_ptr<DeltaJournal> journal(new DeltaJournal(fd, path, sync_each));
  struct stat info {};
  if (::fstat(fd, &info) != 0) return Status::Unavailable(Errno("cannot stat", path));
  journal->size_ = static_cast<uint64_t>(info.st_size);
  return journal;
}

DeltaJournal::~DeltaJournal() { ::close(fd_); }

Result<std::vector<DeltaJournal::Record>> DeltaJournal::ReadAndTrim(uint64_t epoch) {
  std::string bytes(size_, '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = ::pread(fd_, bytes.data() + got, bytes.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Unavailable(Errno("cannot read", path_));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  bytes.resize(got);
  std::vector<Record> records;
  size_t at = 0;
  const char* stopped_because = "cut short";
  while (bytes.size() - at >= kHeaderBytes) {
    const char* header = bytes.data() + at;
    uint64_t payload_bytes = GetLittleEndian(header, 4);
    if (payload_bytes > kMaxPayload || bytes.size() - at - kHeaderBytes < payload_bytes) break;
    std::string_view after_crc(header + 8, 16 + payload_bytes);
    if (RecordCrc(after_crc) != GetLittleEndian(header + 4, 4)) {
      stopped_because = "fails its CRC";
      break;
    }
    if (GetLittleEndian(header + 8, 8) != epoch) {
      stopped_because = "of another epoch";
      break;
    }
    records.push_back({GetLittleEndian(header + 16, 8), std::string(header + kHeaderBytes, payload_bytes)});
    at += kHeaderBytes + payload_bytes;
  }
  last_discard_ = {};
  if (at != size_) {
    last_discard_ = {size_ - at, records.empty() ? 0 : records.back().revision, stopped_because};
    spdlog::warn("replica journal {}: {} bytes after {} discarded (the record there is {}); those revisions come "
                 "again from the control plane",
                 path_, last_discard_.bytes,
                 records.empty() ? std::string("its start") : "revision " + std::to_string(last_discard_.after_revision),
                 stopped_because);
    WARDEN_RETURN_IF_ERROR(CutTo(at));
  }
  return records;
}

Status DeltaJournal::Append(uint64_t epoch, const std::vector<Entry>& entries) {
  if (dirty_tail_) WARDEN_RETURN_IF_ERROR(CutTo(size_));
  std::string out;
  size_t total = 0;
  for (const auto& entry : entries) total += kHeaderBytes + entry.payload.size();
  out.reserve(total);
  for (const auto& entry : entries) {
    size_t start = out.size();
    PutU32(out, static_cast<uint32_t>(entry.payload.size()));
    PutU32(out, 0);  // the CRC, once what it covers is in place
    PutU64(out, epoch);
    PutU64(out, entry.revision);
    out.append(entry.payload);
    uint32_t crc = RecordCrc(std::string_view(out).substr(start + 8));
    for (int i = 0; i < 4; ++i) out[start + 4 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  }
  size_t written = 0;
  while (written < out.size()) {
    ssize_t n = ::pwrite(fd_, out.data() + written, out.size() - written, static_cast<off_t>(size_ + written));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status failed = Status::Unavailable(Errno("cannot append", path_));
      (void)CutTo(size_);
      return failed;
    }
    written += static_cast<size_t>(n);
  }
  if (sync_each_ && ::fdatasync(fd_) != 0) {
    Status failed = Status::Unavailable(Errno("cannot sync", path_));
    (void)CutTo(size_);
    return failed;
  }
  size_ += out.size();
  return Status::Ok();
}

Status DeltaJournal::Clear() { return CutTo(0); }

Status DeltaJournal::CutTo(uint64_t size) {
  size_ = size;
  dirty_tail_ = ::ftruncate(fd_, static_cast<off_t>(size)) != 0;
  return dirty_tail_ ? Status::Unavailable(Errno("cannot truncate", path_)) : Status::Ok();
}

}  // namespace warden::edge
