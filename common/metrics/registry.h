// Metrics: counters, gauges and histograms rendered in Prometheus text format.
//
// Metrics are registered once (at start, under a mutex) and then updated lock-free with relaxed
// atomics, so recording on the hot path costs an atomic add and nothing else. References returned
// by the registry stay valid for the registry's lifetime.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace warden::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Increment(uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  void Add(int64_t by) { value_.fetch_add(by, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// A latency histogram with fixed bucket bounds from 50 µs to 10 s.
class Histogram {
 public:
  static constexpr std::array<double, 16> kBoundsSeconds = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,   0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   10.0};
  static constexpr std::array<const char*, 16> kBoundLabels = {
      "0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
      "0.025",   "0.05",   "0.1",     "0.25",   "0.5",   "1",     "2.5",   "10"};

  void ObserveNanoseconds(uint64_t nanoseconds);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // Appends the _bucket, _sum and _count lines for this histogram.
  void Render(const std::string& name, const std::string& labels, std::string& out) const;

 private:
  std::array<std::atomic<uint64_t>, kBoundsSeconds.size()> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_nanoseconds_{0};
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Registering the same name and labels twice returns the same metric.
  Counter& AddCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& AddGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& AddHistogram(const std::string& name, const std::string& help, const Labels& labels = {});
  // A gauge computed when scraped (a revision, a snapshot's age). `read` must be thread-safe.
  void AddCallbackGauge(const std::string& name, const std::string& help, const Labels& labels,
                        std::function<double()> read);

  std::string RenderPrometheus() const;

 private:
  struct Family;
  Family& FamilyFor(const std::string& name, const std::string& help, const char* type);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family>> families_;
};

// Renders labels as {a="x",b="y"} with Prometheus escaping; "" when empty.
std::string RenderLabels(const Labels& labels);

}  // namespace warden::metrics
