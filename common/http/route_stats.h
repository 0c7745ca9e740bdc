// Per-route request counters and latency, registered in the server's metrics registry.
#pragma once

#include <array>
#include <string>

#include "common/metrics/registry.h"

namespace warden::http {

struct RouteStats {
  RouteStats(metrics::Registry& registry, const std::string& route);

  // Counts a finished request by status class (1xx..5xx) and records its latency.
  void Record(unsigned status, uint64_t nanoseconds) {
    unsigned index = status / 100;
    if (index < 1 || index > 5) index = 5;
    by_status_class[index - 1]->Increment();
    latency->ObserveNanoseconds(nanoseconds);
  }

  std::array<metrics::Counter*, 5> by_status_class{};
  metrics::Histogram* latency = nullptr;
};

}  // namespace warden::http
