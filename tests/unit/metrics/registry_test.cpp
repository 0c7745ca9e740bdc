#include "common/metrics/registry.h"

#include <doctest/doctest.h>

using namespace warden::metrics;

TEST_CASE("metrics render in Prometheus text format") {
  Registry registry;
  registry.AddCounter("warden_checks_total", "Checks", {{"api", "authzen"}, {"decision", "allow"}}).Increment(3);
  registry.AddGauge("warden_revision", "Revision held").Set(42);
  registry.AddHistogram("warden_latency_seconds", "Latency").ObserveNanoseconds(200'000);  // 0.2 ms
  registry.AddCallbackGauge("warden_snapshot_age_seconds", "Age", {}, [] { return 1.5; });
  std::string text = registry.RenderPrometheus();
  CHECK(text.find("# TYPE warden_checks_total counter\n") != std::string::npos);
  CHECK(text.find("warden_checks_total{api=\"authzen\",decision=\"allow\"} 3\n") != std::string::npos);
  CHECK(text.find("warden_revision 42\n") != std::string::npos);
  CHECK(text.find("warden_latency_seconds_bucket{le=\"0.0001\"} 0\n") != std::string::npos);
  CHECK(text.find("warden_latency_seconds_bucket{le=\"0.00025\"} 1\n") != std::string::npos);
  CHECK(text.find("warden_latency_seconds_bucket{le=\"+Inf\"} 1\n") != std::string::npos);
  CHECK(text.find("warden_latency_seconds_count 1\n") != std::string::npos);
  CHECK(text.find("warden_snapshot_age_seconds 1.5\n") != std::string::npos);
}

TEST_CASE("registering the same metric twice returns the same one") {
  Registry registry;
  Counter& a = registry.AddCounter("c", "help", {{"k", "v"}});
  Counter& b = registry.AddCounter("c", "help", {{"k", "v"}});
  CHECK(&a == &b);
}

TEST_CASE("label values are escaped") {
  CHECK(RenderLabels({{"route", "GET /a\"b"}}) == "{route=\"GET /a\\\"b\"}");
}
