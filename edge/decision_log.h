// DecisionLog: every decision an edge makes, recorded off the hot path and shipped to the
// control plane exactly once (docs/decision-logs.md).
//
//   request thread --TryPush--> bounded lock-free queue --writer thread--> SQLite spool
//   spool --shipper thread--> POST /v1/decision-logs --ack--> delete what was stored
//
// A check only decides whether to log (mode and sampling), fills an entry and pushes it; it never
// waits and never does I/O. The writer gives each entry the next sequence number of this spool's
// instance UUID and masks fields before anything is written; the shipper sends batches and deletes
// only what the control plane acknowledged, so a crash or an outage anywhere loses nothing and the
// control plane's (instance, sequence) key stores each entry once. At a bound (queue full, spool
// full) entries are dropped, counted in /metrics, and the count is reported with the next batch.
//
// Nothing one caller sends can jam shipping: fields are cut at max_field_bytes, a batch stops at
// max_batch_bytes, and a batch the control plane refuses for what it holds (too large, invalid)
// is sent again in halves until the one entry refused on its own is discarded and counted as
// dropped. A refusal of the edge itself (its key, or an instance bound to another edge group)
// keeps the entries, shows `refused` and waits before trying again.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http/client.h"
#include "common/metrics/registry.h"
#include "common/util/bounded_queue.h"
#include "common/util/status.h"
#include "edge/decision_entry.h"

namespace warden::edge {

class DecisionSpool;

struct DecisionLogOptions {
  // Per API: 0 off, 1 every decision, 2 denies only, 3 sampled at `sample_rate`.
  std::array<int, kDecisionApiCount> mode{{0, 0, 0}};
  double sample_rate = 1.0;
  std::vector<std::string> mask_pointers;  // JSON pointers whose values become "****"
  std::vector<std::string> drop_pointers;  // JSON pointers removed
  std::string spool_path;                  // SQLite file
  size_t queue_capacity = 1 << 16;
  size_t max_spool_entries = 2'000'000;    // about 60 s of full load
  size_t batch_entries = 1000;
  std::chrono::milliseconds flush_interval{1000};
  size_t max_reason_bytes = 512;
  size_t max_field_bytes = kDefaultMaxFieldBytes;  // every other string field (--decision-log-max-field)
  // The most bytes of entries one batch holds: well under the control plane's 16 MiB message and
  // body limits. A batch refused as too large halves it, down to one entry.
  size_t max_batch_bytes = 4u << 20;
  // Where to ship; empty: keep spooling (standalone edges may still read the spool).
  std::string control_plane_url;
  std::string key;
  http::ClientTlsFiles tls;
};

// Parses --decision-log ("off", "all", "denies", "sample:0.1", or per API
// "authzen=all,cerbos=denies,directory=off"). InvalidArgument naming the bad part.
Status ParseDecisionLogModes(const std::string& text, DecisionLogOptions& options);

class DecisionLog {
 public:
  // Opens (or creates) the spool. The registry gets the log's counters.
  static Result<std::unique_ptr<DecisionLog>> Open(DecisionLogOptions options, metrics::Registry& registry);
  ~DecisionLog();  // stops, writing what is queued

  // Hot path: whether a decision of `api` with this outcome is to be logged. No locks, no I/O.
  bool Wants(DecisionApi api, bool allowed) const;
  // Hot path: copies the entry into the queue for the writer; never blocks, and allocates
  // nothing unless the entry's strings exceed PackedDecision::kInlineBytes. A full queue drops
  // it (counted).
  void Record(const DecisionEntryView& entry);
  void Record(DecisionEntry&& entry) { Record(entry.View()); }

  void Start();
  void Stop();

  // Shipping over the sync socket: while a WebSocket session is up it carries the batches
  // (decision_logs / decision_logs_ack) and the HTTP shipper waits.
  void SetSocketShipping(bool active);
  struct SocketBatch {
    std::string message;  // the decision_logs message
    uint64_t id = 0;      // its `batch`, echoed by the acknowledgement
    uint64_t through = 0;
    uint64_t dropped = 0;
    uint64_t damaged = 0;
    size_t count = 0;
    size_t bytes = 0;  // of its entries
  };
  // The oldest spooled entries as one message, or nullopt when nothing waits (or a refusal of
  // the edge itself is being waited out).
  Result<std::optional<SocketBatch>> NextSocketBatch();
  Status AcknowledgeSocketBatch(const SocketBatch& batch);
  // The hub's decision_logs_refused for `batch`: `code` "too_large" or "invalid" (what the batch
  // holds: split, or the one entry discarded and counted), "forbidden" or "unauthenticated" (the
  // edge: kept, retried later); an unknown or missing code is taken as "invalid".
  void RefuseSocketBatch(const SocketBatch& batch, const std::string& code, const std::string& message);
  std::chrono::milliseconds flush_interval() const { return options_.flush_interval; }

  // The instance UUID entries are logged under (the spool's; a new spool takes a new one).
  const std::string& instance_id() const { return instance_id_; }
  // For /v1/status, which anyone who reaches the edge API may read: counts and state, not the
  // instance UUID (knowing it was what let another edge group post entries under it).
  nlohmann::json StatusJson() const;

 private:
  explicit DecisionLog(DecisionLogOptions options);
  void RunWriter();
  void RunShipper();
  // Ships one batch. Returns how many entries the control plane acknowledged (0: nothing to send).
  Result<size_t> ShipOnce();
  void Mask(nlohmann::json& entry) const;
  enum class Refusal { kTooLarge, kInvalid, kForbidden };
  // The oldest entries within the current bounds, as a message body after `prefix`.
  Result<std::optional<SocketBatch>> NextBatch(const std::string& prefix);
  void Shipped(const SocketBatch& batch);
  void Refused(const SocketBatch& batch, Refusal refusal, const std::string& message);
  void SetShipState(const char* state, const std::string& error);

  DecisionLogOptions options_;
  BoundedQueue<PackedDecision> queue_;
  std::unique_ptr<DecisionSpool> spool_;
  std::string instance_id_;
  std::thread writer_, shipper_;
  mutable std::mutex mutex_;
  std::condition_variable wake_writer_, wake_shipper_;
  bool stopping_ = false;
  std::string ship_state_ = "idle";  // GUARDED_BY(mutex_)
  std::string ship_error_;           // GUARDED_BY(mutex_)
  std::atomic<uint64_t> dropped_queue_{0};
  std::atomic<bool> socket_shipping_{false};
  std::mutex ship_mutex_;  // held by the HTTP shipper across a POST, and by the socket while it reads a batch
  uint64_t next_batch_id_ = 1;  // only the socket session's thread uses it
  // The bounds the next batch is read within: halved by a refusal of what a batch held, grown
  // back by each batch stored.
  std::atomic<size_t> batch_entry_bound_{0};
  std::atomic<size_t> batch_byte_bound_{0};
  // While a refusal of the edge itself is waited out (steady clock, ns): no socket batches.
  std::atomic<int64_t> refused_until_ns_{0};

  metrics::Counter* recorded_ = nullptr;
  metrics::Counter* dropped_queue_counter_ = nullptr;
  metrics::Counter* dropped_spool_counter_ = nullptr;
  metrics::Counter* dropped_refused_counter_ = nullptr;
  metrics::Counter* shipped_ = nullptr;
};

}  // namespace warden::edge
