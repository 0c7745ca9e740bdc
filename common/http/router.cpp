#include "common/http/router.h"

#include "common/http/route_stats.h"
#include "common/http/json.h"

namespace warden::http {
namespace {

// Matches `path` against `pattern`; on success appends captures to `params`.
bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::vector<std::pair<std::string, std::string>>& params) {
  params.clear();
  size_t p = 0;
  size_t q = 0;
  while (p < pattern.size() && q <= path.size()) {
    if (pattern[p] == '{') {
      size_t close = pattern.find('}', p);
      std::string_view name = pattern.substr(p + 1, close - p - 1);
      bool rest = name.size() > 3 && name.substr(name.size() - 3) == "...";
      if (rest) {
        name.remove_suffix(3);
        if (q >= path.size()) return false;
        params.emplace_back(std::string(name), PercentDecode(path.substr(q)));
        return close + 1 == pattern.size();
      }
      size_t slash = path.find('/', q);
      if (slash == std::string_view::npos) slash = path.size();
      if (slash == q) return false;  // an empty segment does not fill a capture
      params.emplace_back(std::string(name), PercentDecode(path.substr(q, slash - q)));
      p = close + 1;
      q = slash;
      continue;
    }
    if (q >= path.size() || pattern[p] != path[q]) return false;
    ++p;
    ++q;
  }
  return p == pattern.size() && q == path.size();
}

}  // namespace

Router::Router(metrics::Registry& registry)
    : registry_(registry), unmatched_stats_(std::make_shared<RouteStats>(registry, "unmatched")) {}
Router::~Router() = default;

void Router::Add(Method method, std::string pattern, Handler handler) {
  for (auto& route : routes_) {
    if (route->method == method && route->pattern == pattern) {
      route->handler = std::move(handler);
      return;
    }
  }
  auto route = std::make_unique<Route>();
  route->method = method;
  route->stats = std::make_shared<RouteStats>(registry_, std::string(MethodName(method)) + " " + pattern);
  route->pattern = std::move(pattern);
  route->handler = std::move(handler);
  routes_.push_back(std::move(route));
}

Router::Match Router::Find(Method method, std::string_view path) const {
  Match match;
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& route : routes_) {
    if (!MatchPattern(route->pattern, path, params)) continue;
    // HEAD is served by the GET route, as HTTP allows.
    bool same = route->method == method || (method == Method::kHead && route->method == Method::kGet);
    if (same) {
      match.kind = MatchKind::kFound;
      match.route = route.get();
      match.params = std::move(params);
      match.allow.clear();
      return match;
    }
    match.kind = MatchKind::kWrongMethod;
    if (!match.allow.empty()) match.allow += ", ";
    match.allow += MethodName(route->method);
  }
  return match;
}

}  // namespace warden::http

namespace warden::http {

void Router::AddUpgrade(std::string path, UpgradeHandler handler, WebSocketLimits limits) {
  // A plain GET (no Upgrade header) reaches this ordinary route and is told what is expected.
  Add(Method::kGet, path, [path](Request&) {
    return ErrorResponse(426, "upgrade_required", path + " is a WebSocket endpoint: send an Upgrade: websocket request")
        .with_header("Upgrade", "websocket");
  });
  auto route = std::make_unique<UpgradeRoute>();
  route->path = std::move(path);
  route->handler = std::move(handler);
  route->limits = limits;
  upgrades_.push_back(std::move(route));
}

const Router::UpgradeRoute* Router::FindUpgrade(std::string_view path) const {
  for (const auto& route : upgrades_) {
    if (route->path == path) return route.get();
  }
  return nullptr;
}

}  // namespace warden::http
