#include "common/util/log_throttle.h"

#include <doctest/doctest.h>

using namespace warden;
using namespace std::chrono_literals;

TEST_CASE("a repeating failure is logged once per interval, with the count between") {
  LogThrottle throttle(10s);
  const auto start = LogThrottle::Clock::time_point{} + 1h;
  uint64_t suppressed = 99;
  CHECK(throttle.Allow(start, &suppressed));
  CHECK(suppressed == 0);
  // Every 20 ms for 9.98 s: none logged.
  int logged = 0;
  for (int i = 1; i < 500; ++i) logged += throttle.Allow(start + i * 20ms, &suppressed) ? 1 : 0;
  CHECK(logged == 0);
  CHECK(throttle.Allow(start + 10s, &suppressed));
  CHECK(suppressed == 499);
  // Recovery: said once, and the next failure is logged at once.
  CHECK(throttle.Reset());
  CHECK_FALSE(throttle.Reset());
  CHECK(throttle.Allow(start + 10s + 1ms, &suppressed));
  CHECK(suppressed == 0);
}
