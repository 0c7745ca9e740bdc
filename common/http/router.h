// Router: maps (method, path) to a handler.
//
// Patterns are literal segments and `{name}` captures, e.g. "/v1/objects/{type}/{id}"; a final
// `{name...}` captures the rest of the path. Routes are registered once at start and the table is
// read-only afterwards, so request threads look it up without locking.
#pragma once

#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/request.h"
#include "common/http/websocket.h"
#include "common/metrics/registry.h"

namespace warden::http {

using Handler = std::function<Response(Request&)>;

struct RouteStats;  // per-route counters, owned by the router (see metrics)

struct Route {
  Method method;
  std::string pattern;
  Handler handler;
  std::shared_ptr<RouteStats> stats;
};

class Router {
 public:
  // Route statistics are registered in `registry`, which must outlive the router.
  explicit Router(metrics::Registry& registry);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // REQUIRES: called before the server starts. A duplicate (method, pattern) replaces the earlier
  // handler.
  void Add(Method method, std::string pattern, Handler handler);

  // A WebSocket endpoint at exactly `path`: upgrade requests there go to `handler`; any other
  // request to it gets 400 naming the need for an upgrade. REQUIRES: before the server starts.
  void AddUpgrade(std::string path, UpgradeHandler handler, WebSocketLimits limits = {});
  struct UpgradeRoute {
    std::string path;
    UpgradeHandler handler;
    WebSocketLimits limits;
  };
  // The upgrade route at `path`, or null.
  const UpgradeRoute* FindUpgrade(std::string_view path) const;

  enum class MatchKind { kFound, kNoPath, kWrongMethod };
  struct Match {
    MatchKind kind = MatchKind::kNoPath;
    const Route* route = nullptr;
    std::vector<std::pair<std::string, std::string>> params;
    std::string allow;  // for kWrongMethod: the methods the path does accept, e.g. "GET, POST"
  };
  Match Find(Method method, std::string_view path) const;

  // A check every matched request passes before its handler (the edge's API keys): returns the
  // response to send instead (a 401, say), or nullopt to go on. Set once, before serving.
  using Guard = std::function<std::optional<Response>(const Request&)>;
  void SetGuard(Guard guard) { guard_ = std::move(guard); }
  const Guard& guard() const { return guard_; }

  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }
  // Statistics for requests that matched no route.
  RouteStats& unmatched_stats() const { return *unmatched_stats_; }
  metrics::Registry& registry() const { return registry_; }

 private:
  metrics::Registry& registry_;
  std::shared_ptr<RouteStats> unmatched_stats_;
  std::vector<std::unique_ptr<Route>> routes_;
  std::vector<std::unique_ptr<UpgradeRoute>> upgrades_;
  Guard guard_;
};

}  // namespace warden::http
