// LogThrottle: a failure that repeats every few milliseconds (a spool write on a full disk) is
// logged once, then at most once per interval with how many times it happened meanwhile, so
// the log says what is wrong without drowning what else it says.
#pragma once

#include <chrono>
#include <cstdint>

namespace warden {

class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LogThrottle(Clock::duration interval) : interval_(interval) {}

  // Records one occurrence at `now`. True when it should be logged: the first of a run, or the
  // first once `interval` has passed since the last one logged; then `*suppressed` holds how many
  // occurrences since that one were not logged.
  bool Allow(Clock::time_point now, uint64_t* suppressed) {
    if (logged_any_ && now - last_logged_ < interval_) {
      ++suppressed_;
      return false;
    }
    *suppressed = suppressed_;
    suppressed_ = 0;
    last_logged_ = now;
    logged_any_ = true;
    return true;
  }

  // The failure stopped. True when one had been logged (the caller may say it recovered); the
  // next occurrence is logged at once.
  bool Reset() {
    const bool was_failing = logged_any_;
    logged_any_ = false;
    suppressed_ = 0;
    return was_failing;
  }

 private:
  Clock::duration interval_;
  Clock::time_point last_logged_{};
  bool logged_any_ = false;
  uint64_t suppressed_ = 0;
};

}  // namespace warden
