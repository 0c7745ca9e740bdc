#include "common/cel/internal/time_util.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace warden::cel::internal {
namespace {

constexpr int64_t kMinTimestampSeconds = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxTimestampSeconds = 253402300799;  // 9999-12-31T23:59:59Z
constexpr int64_t kMaxDurationSeconds = 315576000000;

bool ParseDigits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

std::string FractionDigits(int32_t nanos) {
  if (nanos == 0) return "";
  char buf[16];
  if (nanos % 1'000'000 == 0) {
    std::snprintf(buf, sizeof buf, ".%03d", nanos / 1'000'000);
  } else if (nanos % 1000 == 0) {
    std::snprintf(buf, sizeof buf, ".%06d", nanos / 1000);
  } else {
    std::snprintf(buf, sizeof buf, ".%09d", nanos);
  }
  return buf;
}

// A POSIX TZ rule (the footer of a TZif file), e.g. "GMT0BST,M3.5.0/1,M10.5.0": what applies
// after the file's last explicit transition.
struct PosixRule {
  int32_t std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  int32_t dst_offset = 0;
  struct When {
    char kind = 'M';  // 'M' month.week.day, 'J' Julian day 1..365 (no Feb 29), 'D' zero-based day
    int month = 0, week = 0, day = 0;
    int32_t time = 7200;  // local seconds after midnight; may be negative or past 24h
  } start, end;
};

// A parsed TZif file: transition times and the UTC offset in force from each.
struct Zone {
  std::vector<int64_t> transitions;
  std::vector<int32_t> offsets;  // offset after transitions[i]
  int32_t initial_offset = 0;
  std::optional<PosixRule> rule;
};

class RuleParser {
 public:
  explicit RuleParser(std::string_view s) : s_(s) {}

  std::optional<PosixRule> Parse() {
    PosixRule r;
    if (!Name()) return std::nullopt;
    auto std_off = Offset();
    if (!std_off) return std::nullopt;
    r.std_offset = -*std_off;  // POSIX counts west as positive
    if (pos_ == s_.size()) return r;
    if (!Name()) return std::nullopt;
    r.has_dst = true;
    r.dst_offset = r.std_offset + 3600;
    if (pos_ < s_.size() && s_[pos_] != ',') {
      auto dst_off = Offset();
      if (!dst_off) return std::nullopt;
      r.dst_offset = -*dst_off;
    }
    if (pos_ >= s_.size() || s_[pos_] != ',') return std::nullopt;
    ++pos_;
    if (!Date(r.start)) return std::nullopt;
    if (pos_ >= s_.size() || s_[pos_] != ',') return std::nullopt;
    ++pos_;
    if (!Date(r.end)) return std::nullopt;
    if (pos_ != s_.size()) return std::nullopt;
    return r;
  }

 private:
  bool Name() {
    if (pos_ < s_.size() && s_[pos_] == '<') {
      size_t close = s_.find('>', pos_);
      if (close == std::string_view::npos) return false;
      pos_ = close + 1;
      return true;
    }
    size_t start = pos_;
    while (pos_ < s_.size() && ((s_[pos_] >= 'A' && s_[pos_] <= 'Z') || (s_[pos_] >= 'a' && s_[pos_] <= 'z'))) ++pos_;
    return pos_ - start >= 3;
  }
  bool Number(int& out) {
    size_t start = pos_;
    out = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9' && pos_ - start < 4) out = out * 10 + (s_[pos_++] - '0');
    return pos_ > start;
  }
  // [+|-]hh[:mm[:ss]] in seconds.
  std::optional<int32_t> Offset() {
    int sign = 1;
    if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) sign = s_[pos_++] == '-' ? -1 : 1;
    int h, m = 0, sec = 0;
    if (!Number(h)) return std::nullopt;
    if (pos_ < s_.size() && s_[pos_] == ':') {
      ++pos_;
      if (!Number(m)) return std::nullopt;
      if (pos_ < s_.size() && s_[pos_] == ':') {
        ++pos_;
        if (!Number(sec)) return std::nullopt;
      }
    }
    return sign * (h * 3600 + m * 60 + sec);
  }
  bool Date(PosixRule::When& w) {
    if (pos_ < s_.size() && s_[pos_] == 'M') {
      ++pos_;
      w.kind = 'M';
      if (!Number(w.month) || pos_ >= s_.size() || s_[pos_++] != '.') return false;
      if (!Number(w.week) || pos_ >= s_.size() || s_[pos_++] != '.') return false;
      if (!Number(w.day)) return false;
      if (w.month < 1 || w.month > 12 || w.week < 1 || w.week > 5 || w.day > 6) return false;
    } else if (pos_ < s_.size() && s_[pos_] == 'J') {
      ++pos_;
      w.kind = 'J';
      if (!Number(w.day)) return false;
    } else {
      w.kind = 'D';
      if (!Number(w.day)) return false;
    }
    if (pos_ < s_.size() && s_[pos_] == '/') {
      ++pos_;
      auto t = Offset();
      if (!t) return false;
      w.time = *t;
    }
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Days since the epoch of the rule's date in `year`.
int64_t RuleDay(const PosixRule::When& w, int64_t year) {
  if (w.kind == 'J') {
    int64_t d = w.day - 1;
    if (IsLeap(year) && w.day >= 60) ++d;  // Jn never counts February 29
    return DaysFromCivil(year, 1, 1) + d;
  }
  if (w.kind == 'D') return DaysFromCivil(year, 1, 1) + w.day;
  int64_t first = DaysFromCivil(year, static_cast<unsigned>(w.month), 1);
  int64_t first_dow = ((first % 7) + 11) % 7;  // 0 = Sunday
  int64_t day = first + ((w.day - first_dow) + 7) % 7 + 7 * (w.week - 1);
  static constexpr int kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t month_days = kMonthDays[w.month - 1] + (w.month == 2 && IsLeap(year) ? 1 : 0);
  while (day >= first + month_days) day -= 7;  // week 5 means "the last"
  return day;
}

int32_t RuleOffset(const PosixRule& r, int64_t t) {
  if (!r.has_dst) return r.std_offset;
  int64_t y;
  unsigned m, d;
  int64_t days = (t + r.std_offset) / 86400 - ((t + r.std_offset) % 86400 < 0 ? 1 : 0);
  CivilFromDays(days, y, m, d);
  // DST starts at a local standard time and ends at a local daylight time.
  int64_t start = RuleDay(r.start, y) * 86400 + r.start.time - r.std_offset;
  int64_t end = RuleDay(r.end, y) * 86400 + r.end.time - r.dst_offset;
  bool dst = start < end ? (t >= start && t < end) : (t >= start || t < end);  // southern zones wrap
  return dst ? r.dst_offset : r.std_offset;
}

uint32_t Be32(const unsigned char* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }

std::shared_ptr<const Zone> LoadZone(std::string_view name) {
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '/' || c == '-' || c == '+';
    if (!ok) return nullptr;
  }
  if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos) return nullptr;
  // Zone names like "America" are folders: opening one succeeds, and reading it through an
  // istreambuf_iterator throws (libstdc++ reports EISDIR from underflow). Regular files only, of a
  // TZif file's size, read through istream::read, which turns read errors into a failed stream.
  const std::string path = "/usr/share/zoneinfo/" + std::string(name);
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return nullptr;
  uintmax_t file_size = std::filesystem::file_size(path, error);
  if (error || file_size > (1u << 20)) return nullptr;
  std::ifstream in(path, std::ios::binary);
  if (!in) return nullptr;
  std::string data(static_cast<size_t>(file_size), '\0');
  if (!in.read(data.data(), static_cast<std::streamsize>(data.size()))) return nullptr;
  auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t size = data.size();
  if (size < 44 || data.compare(0, 4, "TZif") != 0) return nullptr;
  auto counts = [&](size_t at, uint32_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = Be32(p + at + 20 + 4 * i);
  };
  uint32_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  size_t at = 44;
  int time_size = 4;
  if (data[4] >= '2') {
    size_t v1 = c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    at += v1;
    if (at + 44 > size || data.compare(at, 4, "TZif") != 0) return nullptr;
    counts(at, c);
    at += 44;
    time_size = 8;
  }
  size_t need = c[3] * (time_size + 1) + c[4] * 6;
  if (at + need > size || c[4] == 0) return nullptr;
  auto zone = std::make_shared<Zone>();
  for (uint32_t i = 0; i < c[3]; ++i) {
    const unsigned char* q = p + at + i * time_size;
    int64_t t = time_size == 8 ? static_cast<int64_t>((uint64_t(Be32(q)) << 32) | Be32(q + 4))
                               : static_cast<int32_t>(Be32(q));
    zone->transitions.push_back(t);
  }
  const unsigned char* idx = p + at + c[3] * time_size;
  const unsigned char* types = idx + c[3];
  std::vector<int32_t> type_offsets;
  std::vector<bool> type_dst;
  for (uint32_t i = 0; i < c[4]; ++i) {
    type_offsets.push_back(static_cast<int32_t>(Be32(types + 6 * i)));
    type_dst.push_back(types[6 * i + 4] != 0);
  }
  for (uint32_t i = 0; i < c[3]; ++i) {
    uint8_t k = idx[i];
    if (k >= c[4]) return nullptr;
    zone->offsets.push_back(type_offsets[k]);
  }
  // The footer after a v2+ body: "\n<POSIX TZ rule>\n".
  if (time_size == 8) {
    size_t body = at + need + c[5] + c[2] * 12 + c[1] + c[0];
    if (body < size && data[body] == '\n') {
      size_t close = data.find('\n', body + 1);
      if (close != std::string::npos) zone->rule = RuleParser(std::string_view(data).substr(body + 1, close - body - 1)).Parse();
    }
  }
  zone->initial_offset = type_offsets[0];
  for (uint32_t i = 0; i < c[4]; ++i) {
    if (!type_dst[i]) {
      zone->initial_offset = type_offsets[i];
      break;
    }
  }
  return zone;
}

std::shared_ptr<const Zone> FindZone(std::string_view name) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Zone>, std::less<>> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  auto zone = LoadZone(name);
  cache.emplace(std::string(name), zone);
  return zone;
}

}  // namespace

bool TimestampInRange(Timestamp t) {
  return t.seconds >= kMinTimestampSeconds && t.seconds <= kMaxTimestampSeconds && t.nanos >= 0 &&
         t.nanos < 1'000'000'000;
}

bool DurationInRange(Duration d) {
  return d.seconds >= -kMaxDurationSeconds && d.seconds <= kMaxDurationSeconds && d.nanos > -1'000'000'000 &&
         d.nanos < 1'000'000'000;
}

bool NormalizeTimestamp(__int128 total, Timestamp& out) {
  __int128 sec = total / 1'000'000'000;
  __int128 ns = total % 1'000'000'000;
  if (ns < 0) {
    ns += 1'000'000'000;
    sec -= 1;
  }
  if (sec < kMinTimestampSeconds || sec > kMaxTimestampSeconds) return false;
  out = {static_cast<int64_t>(sec), static_cast<int32_t>(ns)};
  return true;
}

bool NormalizeDuration(__int128 total, Duration& out) {
  __int128 sec = total / 1'000'000'000;
  __int128 ns = total % 1'000'000'000;
  if (sec < -kMaxDurationSeconds || sec > kMaxDurationSeconds) return false;
  out = {static_cast<int64_t>(sec), static_cast<int32_t>(ns)};
  return true;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

std::optional<Timestamp> ParseTimestamp(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (s.size() < 20 || !ParseDigits(s, 0, 4, year) || s[4] != '-' || !ParseDigits(s, 5, 2, month) ||
      s[7] != '-' || !ParseDigits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') ||
      !ParseDigits(s, 11, 2, hour) || s[13] != ':' || !ParseDigits(s, 14, 2, minute) || s[16] != ':' ||
      !ParseDigits(s, 17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[month - 1] || (month == 2 && day == 29 && !leap)) return std::nullopt;
  size_t pos = 19;
  int32_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t frac = 0;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 9) {
        frac = frac * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (pos == start) return std::nullopt;
    while (digits < 9) {
      frac *= 10;
      ++digits;
    }
    nanos = static_cast<int32_t>(frac);
  }
  if (pos >= s.size()) return std::nullopt;
  int64_t offset = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!ParseDigits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ParseDigits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  int64_t secs = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  Timestamp t{secs, nanos};
  if (!TimestampInRange(t)) return std::nullopt;
  return t;
}

std::string FormatTimestamp(Timestamp t) {
  int64_t days = t.seconds / 86400;
  int64_t rem = t.seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d", static_cast<long long>(y), m, d,
                static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  return std::string(buf) + FractionDigits(t.nanos) + "Z";
}

std::optional<Duration> ParseDuration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration{};
  if (s.empty()) return std::nullopt;
  __int128 total = 0;
  while (!s.empty()) {
    // number: digits [. digits]
    __int128 whole = 0;
    size_t i = 0;
    bool any = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      whole = whole * 10 + (s[i] - '0');
      if (whole > (__int128)1 << 100) return std::nullopt;
      ++i;
      any = true;
    }
    __int128 frac = 0, scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (scale < (__int128)1'000'000'000'000'000'000) {
          frac = frac * 10 + (s[i] - '0');
          scale *= 10;
        }
        ++i;
        any = true;
      }
    }
    if (!any) return std::nullopt;
    size_t u = i;
    while (u < s.size() && !(s[u] >= '0' && s[u] <= '9') && s[u] != '.') ++u;
    std::string_view unit = s.substr(i, u - i);
    __int128 mult;
    if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") mult = 1000;
    else if (unit == "ms") mult = 1'000'000;
    else if (unit == "s") mult = 1'000'000'000;
    else if (unit == "m") mult = 60'000'000'000LL;
    else if (unit == "h") mult = 3'600'000'000'000LL;
    else return std::nullopt;
    total += whole * mult + frac * mult / scale;
    if (total > (__int128)1 << 100) return std::nullopt;
    s.remove_prefix(u);
  }
  Duration d;
  if (!NormalizeDuration(neg ? -total : total, d)) return std::nullopt;
  return d;
}

std::string FormatDuration(Duration d) {
  std::string out;
  int64_t sec = d.seconds;
  int32_t ns = d.nanos;
  if (sec < 0 || ns < 0) {
    out += "-";
    sec = -sec;
    ns = -ns;
  }
  out += std::to_string(sec);
  out += FractionDigits(ns);
  return out + "s";
}

std::optional<int64_t> UtcOffset(std::string_view zone, int64_t unix_seconds) {
  if (zone == "UTC" || zone == "Z" || zone == "utc") return 0;
  // Fixed offsets: [+|-]HH:MM
  std::string_view z = zone;
  int sign = 1;
  if (!z.empty() && (z[0] == '+' || z[0] == '-')) {
    sign = z[0] == '-' ? -1 : 1;
    z.remove_prefix(1);
  }
  int hh, mm;
  if (z.size() == 5 && ParseDigits(z, 0, 2, hh) && z[2] == ':' && ParseDigits(z, 3, 2, mm)) {
    if (hh > 23 || mm > 59) return std::nullopt;
    return sign * (hh * 3600 + mm * 60);
  }
  auto loaded = FindZone(zone);
  if (!loaded) return std::nullopt;
  const auto& tr = loaded->transitions;
  auto it = std::upper_bound(tr.begin(), tr.end(), unix_seconds);
  if (it == tr.end() && loaded->rule) return RuleOffset(*loaded->rule, unix_seconds);
  if (it == tr.begin()) return loaded->initial_offset;
  return loaded->offsets[static_cast<size_t>(it - tr.begin() - 1)];
}

std::optional<CivilTime> ToCivil(Timestamp t, std::string_view zone) {
  auto offset = UtcOffset(zone, t.seconds);
  if (!offset) return std::nullopt;
  int64_t local = t.seconds + *offset;
  int64_t days = local / 86400;
  int64_t rem = local % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  CivilTime c{};
  unsigned m, d;
  CivilFromDays(days, c.year, m, d);
  c.month = static_cast<int>(m);
  c.day = static_cast<int>(d);
  c.day_of_week = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  c.day_of_year = static_cast<int>(days - DaysFromCivil(c.year, 1, 1));
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>(rem / 60 % 60);
  c.second = static_cast<int>(rem % 60);
  c.nanos = t.nanos;
  return c;
}

}  // namespace warden::cel::internal
