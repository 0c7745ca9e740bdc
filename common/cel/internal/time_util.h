// Timestamps and durations: RFC 3339 and Go-duration parsing, protobuf-JSON formatting, civil
// calendar arithmetic, and time zones (fixed offsets and IANA names read from the system tzdata).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/cel/value.h"

namespace warden::cel::internal {

bool TimestampInRange(Timestamp t);
bool DurationInRange(Duration d);

// "2009-02-13T23:31:30Z", "2009-02-13T23:31:30.123+01:00", lower-case t/z accepted.
std::optional<Timestamp> ParseTimestamp(std::string_view text);
std::string FormatTimestamp(Timestamp t);
// Go syntax: "1h30m", "-1.5s", "100ms", "2us", "3ns", "0".
std::optional<Duration> ParseDuration(std::string_view text);
std::string FormatDuration(Duration d);

// Normalizes seconds + nanos (any sign) into a canonical Timestamp / Duration; false on overflow.
bool NormalizeTimestamp(__int128 total_nanos, Timestamp& out);
bool NormalizeDuration(__int128 total_nanos, Duration& out);
inline __int128 TotalNanos(int64_t seconds, int32_t nanos) {
  return static_cast<__int128>(seconds) * 1'000'000'000 + nanos;
}

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d);

// The UTC offset in seconds of zone `zone` at `unix_seconds`. `zone` is "UTC", an offset
// "+11:00" / "-02:30" / "02:00", or an IANA name ("Australia/Sydney"). nullopt if unknown.
std::optional<int64_t> UtcOffset(std::string_view zone, int64_t unix_seconds);

// Broken-down local time of a timestamp in a zone.
struct CivilTime {
  int64_t year;
  int month;        // 1..12
  int day;          // 1..31
  int day_of_week;  // 0 = Sunday
  int day_of_year;  // 0-based
  int hour, minute, second;
  int nanos;
};
std::optional<CivilTime> ToCivil(Timestamp t, std::string_view zone);

}  // namespace warden::cel::internal
