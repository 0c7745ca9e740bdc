// Times: the current one as Unix nanoseconds, and as text.
#pragma once

#include <cstdint>
#include <string>

namespace warden {

// The system clock's now, in Unix nanoseconds.
int64_t UnixNanosNow();

// Unix nanoseconds as RFC 3339 UTC with nine fraction digits: "2026-11-29T15:33:12.565241592Z".
std::string Rfc3339Nanos(int64_t unix_ns);

}  // namespace warden
