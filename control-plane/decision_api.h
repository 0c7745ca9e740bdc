// The decision-log endpoints (docs/decision-logs.md): POST /v1/decision-logs (edges ship batches),
// GET /v1/decisions (query, paged by cursor) and GET /v1/decisions/export (JSON lines).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
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
  // The edge group (key name) of a key id, for batches that arrive with only the key's id (the
  // sync socket's). Unset, a key is a group of its own. Set once, before ingesting.
  using KeyGroupOf = std::function<Result<std::string>(const std::string& key_id)>;
  void SetKeyGroupOf(KeyGroupOf key_group_of) { key_group_of_ = std::move(key_group_of); }

  // `body` is {"instance_id", "dropped", "damaged", "entries"}. Answers {"stored", "duplicates",
  // "through"} once committed. InvalidArgument naming the field stores nothing; ResourceExhausted
  // for too many entries; PermissionDenied (nothing stored) when the instance is bound to another
  // edge group than the key's; Unavailable when the test hook drops the acknowledgement (after
  // the commit).
  Result<nlohmann::json> Ingest(const std::string& key_id, const nlohmann::json& body);
  Result<nlohmann::json> Ingest(const std::string& key_id, const std::string& key_group, const nlohmann::json& body);
  // The same for a batch ReadDecisionBatch read from its text (already validated).
  Result<nlohmann::json> Ingest(const std::string& key_id, const std::string& key_group, const DecisionBatch& batch);
  const DecisionLogLimits& limits() const { return limits_; }

 private:
  // Counters, retention and the test hook, after a batch was stored.
  Result<nlohmann::json> Stored(const DecisionStore::IngestResult& stored, const DecisionStore::BatchSource& source);

  KeyGroupOf key_group_of_;
  DecisionStore& store_;
  DecisionLogLimits limits_;
  metrics::Counter* ingested_;
  metrics::Counter* duplicates_;
  metrics::Counter* dropped_;
  std::atomic<int> acks_to_drop_{0};
  std::atomic<int64_t> last_retention_ns_{0};
};

// What a refusal of a batch says to the edge (decision_logs_refused's `code`): "too_large"
// (split it), "invalid" (split it; an entry refused alone is dropped), "forbidden" or
// "unauthenticated" (the edge may not ship this: keep the entries, try later), "unavailable".
const char* DecisionRefusalCode(const Status& status);

// `cp`, `store` and `ingest` must outlive the router. Includes AddDecisionIngestRoute.
void AddDecisionRoutes(http::Router& router, ControlPlane& cp, DecisionStore& store, DecisionIngest& ingest);

// Only POST /v1/decision-logs (edge keys): what the --sync-listen listener serves besides sync,
// so an edge pointed at it ships its logs there in pull mode too.
void AddDecisionIngestRoute(http::Router& router, ControlPlane& cp, DecisionIngest& ingest);

}  // namespace warden::control_plane
