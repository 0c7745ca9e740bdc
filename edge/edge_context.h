// EdgeContext: what every edge API handler shares: the current snapshot, limits and counters.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "common/engine/decision.h"
#include "common/policy/policy_set.h"
#include "common/http/request.h"
#include "common/metrics/registry.h"
#include "common/snapshot/snapshot_holder.h"
#include "edge/decision_log.h"

namespace warden::engine {
struct DecisionInput;
struct DecisionResult;
}  // namespace warden::engine

namespace warden::edge {

struct EdgeLimits {
  size_t max_batch_items = 1000;  // evaluations per AuthZEN batch, resources per Cerbos request
  size_t max_page_size = 1000;    // results per search or lookup page
  // How long a request carrying Warden-Min-Revision may wait for that revision.
  std::chrono::milliseconds min_revision_wait{1000};
  // Graph depth and fan-out, and the CEL cost budget, of every decision (--max-graph-depth,
  // --max-graph-visits, --max-eval-cost).
  engine::DecisionLimits decision;
  // What policy conditions may be (--max-expression-length, --max-expression-depth): every
  // snapshot this edge builds, from its folder, replica or the control plane, compiles under them.
  policy::ExpressionLimits expression;
};

class EdgeContext {
 public:
  explicit EdgeContext(metrics::Registry& registry);

  SnapshotHolder& holder() { return holder_; }
  const SnapshotHolder& holder() const { return holder_; }
  metrics::Registry& registry() { return registry_; }
  EdgeLimits limits;

  // Counts one decision of `api` ("authzen", "cerbos", "directory") by outcome.
  void CountDecision(int api, bool allowed) {
    (allowed ? allowed_[api] : denied_[api])->Increment();
  }
  static constexpr int kAuthzen = 0, kCerbos = 1, kDirectory = 2;

  // The decision log, when one is configured (set once at start; null: logging is off).
  DecisionLog* decision_log = nullptr;
  bool WantsLog(DecisionApi api, bool allowed) const { return decision_log && decision_log->Wants(api, allowed); }
  // Logs an AuthZEN-shaped decision (the pipeline's input and result), if the log wants it.
  void LogDecision(DecisionApi api, const http::Request* request, const Snapshot& snapshot,
                   const engine::DecisionInput& input, const engine::DecisionResult& result,
                   std::chrono::steady_clock::time_point started);

  // The snapshot for this request, or a 503 response explaining that none is loaded. Adds
  // `Warden-Revision` to responses through WithRevision().
  const Snapshot* SnapshotOrNull() const { return holder_.Acquire(); }
  // The snapshot for a request: at least the revision its `Warden-Min-Revision` header (or
  // `body_min_revision`, from an AuthZEN body) asks for, waiting up to limits.min_revision_wait.
  // Null with `error` set: 400 for a malformed header, 503 revision_unavailable, or not ready;
  // or, on a server's first call, http::Response::Later, which the handler returns as it is.
  const Snapshot* SnapshotFor(const http::Request& request, uint64_t body_min_revision,
                              std::optional<http::Response>& error);
  static http::Response NotReadyResponse();
  static http::Response& WithRevision(http::Response& response, const Snapshot& snapshot);

 private:
  metrics::Registry& registry_;
  SnapshotHolder holder_;
  metrics::Counter* allowed_[3];
  metrics::Counter* denied_[3];
};

}  // namespace warden::edge
