#include "edge/edge_context.h"

#include "common/http/json.h"

namespace warden::edge {

EdgeContext::EdgeContext(metrics::Registry& registry) : registry_(registry) {
  const char* apis[] = {"authzen", "cerbos", "directory"};
  for (int i = 0; i < 3; ++i) {
    allowed_[i] = &registry.AddCounter("warden_decisions_total", "Decisions made, by API and outcome",
                                       {{"api", apis[i]}, {"decision", "allow"}});
    denied_[i] = &registry.AddCounter("warden_decisions_total", "Decisions made, by API and outcome",
                                      {{"api", apis[i]}, {"decision", "deny"}});
  }
  registry.AddCallbackGauge("warden_snapshot_revision", "Revision of the snapshot the edge decides from", {},
                            [this] { return static_cast<double>(holder_.revision()); });
  registry.AddCallbackGauge("warden_snapshot_age_seconds", "Seconds since the current snapshot was built", {}, [this] {
    auto snapshot = holder_.Current();
    if (!snapshot) return -1.0;
    return std::chrono::duration<double>(std::chrono::system_clock::now() - snapshot->created_at).count();
  });
}

http::Response EdgeContext::NotReadyResponse() {
  return http::ErrorResponse(503, "not_ready", "the edge has no snapshot loaded yet; see /readyz");
}

http::Response& EdgeContext::WithRevision(http::Response& response, const Snapshot& snapshot) {
  response.with_header("Warden-Revision", std::to_string(snapshot.revision));
  return response;
}

}  // namespace warden::edge
