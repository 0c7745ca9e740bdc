// The decision-log endpoints (docs/decision-logs.md): POST /v1/decision-logs (edges ship batches),
// GET /v1/decisions (query, paged by cursor) and GET /v1/decisions/export (JSON lines).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "common/http/router.h"
#include "common/metrics/registry.h"
#include "control-plane/control_plane.h"
#include "control-plane/decision_batch.h"
#include "control-plane/decision_store.h"

namespace warden::control_plane {

struct DecisionLogLimits {
  size_t max_batch_body = 16u << 20;
  size_t max_batch_entries = 10'000;
  std::chrono::hours retain{24 * 30};
  uint64_t max_rows = 100'000'000;
};

// Takes in one batch an edge shipped, whichever way it came (POST /v1/decision-logs, or the sync
// socket's decision_logs message): validation, storage, counters, retention.
class DecisionIngest {
 public:
  DecisionIngest(DecisionStore& store, DecisionLogLimits limits, metrics::Registry& registry);
  // `body` is {"instance_id", "dropped", "entries"}. Answers {"stored", "duplicates", "through"}
  // once committed. InvalidArgument naming the field stores nothing; ResourceExhausted for too
  // many entries; Unavailable when the test hook drops the acknowledgement (after the commit).
  Result<nlohmann::json> Ingest(const std::string& key_id, const nlohmann::json& body);
  // The same for a batch ReadDecisionBatch read from its text (already validated).
  Result<nlohmann::json> Ingest(const std::string& key_id, const DecisionBatch& batch);
  const DecisionLogLimits& limits() const { return limits_; }

 private:
  // Counters, retention and the test hook, after a batch was stored.
  Result<nlohmann::json> Stored(const DecisionStore::IngestResult& stored, std::string_view instance_id,
                                uint64_t reported_drops);

  DecisionStore& store_;
  DecisionLogLimits limits_;
  metrics::Counter* ingested_;
  metrics::Counter* duplicates_;
  metrics::Counter* dropped_;
  std::atomic<int> acks_to_drop_{0};
  std::atomic<int64_t> last_retention_ns_{0};
};

// `cp`, `store` and `ingest` must outlive the router. Includes AddDecisionIngestRoute.
void AddDecisionRoutes(http::Router& router, ControlPlane& cp, DecisionStore& store, DecisionIngest& ingest);

// Only POST /v1/decision-logs (edge keys): what the --sync-listen listener serves besides sync,
// so an edge pointed at it ships its logs there in pull mode too.
void AddDecisionIngestRoute(http::Router& router, ControlPlane& cp, DecisionIngest& ingest);

}  // namespace warden::control_plane
