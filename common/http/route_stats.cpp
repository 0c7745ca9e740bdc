#include "common/http/route_stats.h"

namespace warden::http {

RouteStats::RouteStats(metrics::Registry& registry, const std::string& route) {
  static const char* kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  for (int i = 0; i < 5; ++i) {
    by_status_class[i] = &registry.AddCounter("warden_http_requests_total",
                                              "HTTP requests served, by route and status class",
                                              {{"route", route}, {"code", kClasses[i]}});
  }
  latency = &registry.AddHistogram("warden_http_request_duration_seconds",
                                   "Time from a request's last byte read to its response written",
                                   {{"route", route}});
}

}  // namespace warden::http
