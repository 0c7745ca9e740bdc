#include "edge/edge_context.h"

#include <charconv>

#include "common/engine/decision.h"
#include "common/http/json.h"

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

void EdgeContext::LogDecision(DecisionApi api, const http::Request* request, const Snapshot& snapshot,
                              const engine::DecisionInput& input, const engine::DecisionResult& result,
                              std::chrono::steady_clock::time_point started) {
  if (!WantsLog(api, result.allowed)) return;
  // Views of what the request and the result hold: Record copies the bytes into its queue slot,
  // so logging a decision allocates nothing here.
  DecisionEntryView entry;
  entry.time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
  entry.revision = snapshot.revision;
  entry.api = api;
  if (request) entry.request_id = request->header("X-Request-Id");
  entry.subject_type = input.subject.type;
  entry.subject_id = result.subject_id.empty() ? input.subject.id : result.subject_id;
  entry.action = input.action;
  entry.resource_type = input.resource.type;
  entry.resource_id = input.resource.id;
  entry.allowed = result.allowed;
  entry.policy = result.policy;
  entry.rule = result.rule;
  entry.reason = result.reason;
  entry.latency_us = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
  decision_log->Record(entry);
}

const Snapshot* EdgeContext::SnapshotFor(const http::Request& request, uint64_t body_min_revision,
                                         std::optional<http::Response>& error) {
  uint64_t wanted = body_min_revision;
  std::string_view header = request.header("Warden-Min-Revision");
  if (!header.empty()) {
    uint64_t from_header = 0;
    auto [end, parse_error] = std::from_chars(header.data(), header.data() + header.size(), from_header);
    if (parse_error != std::errc() || end != header.data() + header.size()) {
      error = http::ErrorResponse(400, "invalid_argument", "Warden-Min-Revision: must be a non-negative integer, got '" +
                                                                 std::string(header) + "'");
      return nullptr;
    }
    wanted = std::max(wanted, from_header);
  }
  // An edge that has no snapshot yet (just started, following a control plane) waits too: the
  // revision asked for may be on its way. The server does the waiting, without holding a worker
  // thread, and calls the handler again; a caller that cannot wait gets the answer at once.
  if (wanted > holder_.revision() && request.may_wait() && limits.min_revision_wait.count() > 0) {
    error = http::Response::Later([this, wanted] { return holder_.revision() >= wanted; },
                                  std::chrono::steady_clock::now() + limits.min_revision_wait);
    return nullptr;
  }
  const Snapshot* snapshot = SnapshotOrNull();
  if (snapshot == nullptr) {
    error = NotReadyResponse();
    return nullptr;
  }
  if (snapshot->revision < wanted) {
    error = http::ErrorResponse(503, "revision_unavailable",
                                "revision " + std::to_string(wanted) + " was asked for; this edge holds revision " +
                                    std::to_string(snapshot->revision));
    error->with_header("Warden-Revision", std::to_string(snapshot->revision));
    return nullptr;
  }
  return snapshot;
}

}  // namespace warden::edge
