#include "edge/decision_log.h"

#include "common/util/json_text.h"
#include "common/util/log_throttle.h"
#include "common/util/time_format.h"

#include <random>

#include <sys/resource.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "common/http/client.h"
#include "edge/decision_segment.h"
#include "edge/decision_spool.h"

namespace warden::edge {

using nlohmann::json;

namespace {

constexpr int kWriterNice = 5;
// The smallest byte bound halving goes to; one entry always goes whatever the bound.
constexpr size_t kMinBatchBytes = 4 << 10;
// How long a refusal of the edge itself (its key, its instance's group) is waited out.
constexpr std::chrono::seconds kRefusedWait{10};

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A cheap per-thread generator for sampling: no lock, no allocation.
double UniformSample() {
  thread_local std::minstd_rand generator(std::random_device{}());
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

Result<int> ParseMode(const std::string& text, double& sample_rate) {
  if (text == "off" || text == "none") return 0;
  if (text == "all") return 1;
  if (text == "denies" || text == "deny") return 2;
  if (text.rfind("sample:", 0) == 0) {
    try {
      size_t used = 0;
      double rate = std::stod(text.substr(7), &used);
      if (used + 7 != text.size() || rate <= 0 || rate > 1) throw std::invalid_argument("rate");
      sample_rate = rate;
      return 3;
    } catch (const std::exception&) {
      return Status::InvalidArgument("decision-log: '" + text + "': the sample rate must be in (0, 1]");
    }
  }
  return Status::InvalidArgument("decision-log: '" + text + "' is not off, all, denies or sample:RATE");
}

}  // namespace

Status ParseDecisionLogModes(const std::string& text, DecisionLogOptions& options) {
  if (text.find('=') == std::string::npos) {
    auto mode = ParseMode(text, options.sample_rate);
    if (!mode.ok()) return mode.status();
    options.mode.fill(*mode);
    return Status::Ok();
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t equals = part.find('=');
    if (equals == std::string::npos) return Status::InvalidArgument("decision-log: '" + part + "' must be API=MODE");
    std::string api = part.substr(0, equals);
    int index = -1;
    for (int i = 0; i < kDecisionApiCount; ++i) {
      if (api == kDecisionApiNames[i]) index = i;
    }
    if (index < 0) return Status::InvalidArgument("decision-log: unknown API '" + api + "' (authzen, cerbos, directory)");
    auto mode = ParseMode(part.substr(equals + 1), options.sample_rate);
    if (!mode.ok()) return mode.status();
    options.mode[index] = *mode;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return Status::Ok();
}

Result<std::unique_ptr<DecisionLog>> DecisionLog::Open(DecisionLogOptions options, metrics::Registry& registry) {
  for (const auto& pointer : options.mask_pointers) {
    if (pointer.empty() || pointer[0] != '/') return Status::InvalidArgument("decision-log-mask: '" + pointer + "' is not a JSON pointer");
  }
  for (const auto& pointer : options.drop_pointers) {
    if (pointer.empty() || pointer[0] != '/') return Status::InvalidArgument("decision-log-drop: '" + pointer + "' is not a JSON pointer");
  }
  if (options.max_field_bytes < 16) {
    return Status::InvalidArgument("decision-log-max-field: must be at least 16 bytes");
  }
  auto spool = DecisionSpool::Open(options.spool_path);
  if (!spool.ok()) return spool.status();
  std::unique_ptr<DecisionLog> log(new DecisionLog(std::move(options)));
  log->spool_ = std::move(*spool);
  log->instance_id_ = log->spool_->instance_id();
  log->recorded_ = &registry.AddCounter("warden_decision_log_entries_total", "Decisions written to the log spool");
  log->dropped_queue_counter_ = &registry.AddCounter("warden_decision_log_dropped_total",
                                                     "Decision-log entries dropped at a bound", {{"bound", "queue"}});
  log->dropped_spool_counter_ = &registry.AddCounter("warden_decision_log_dropped_total",
                                                     "Decision-log entries dropped at a bound", {{"bound", "spool"}});
  log->dropped_refused_counter_ = &registry.AddCounter("warden_decision_log_dropped_total",
                                                       "Decision-log entries dropped at a bound", {{"bound", "refused"}});
  registry.AddCallbackGauge("warden_decision_log_damaged", "Decision-log entries lost to damage in the spool", {},
                            [raw = log.get()] { return static_cast<double>(raw->spool_->damaged_total()); });
  log->shipped_ = &registry.AddCounter("warden_decision_log_shipped_total",
                                       "Decision-log entries the control plane acknowledged");
  DecisionLog* raw = log.get();
  registry.AddCallbackGauge("warden_decision_log_spooled", "Decision-log entries waiting in the spool", {},
                            [raw] { return static_cast<double>(raw->spool_->size()); });
  return log;
}

DecisionLog::DecisionLog(DecisionLogOptions options)
    : options_(std::move(options)), queue_(options_.queue_capacity) {
  batch_entry_bound_ = options_.batch_entries;
  batch_byte_bound_ = options_.max_batch_bytes;
}

DecisionLog::~DecisionLog() { Stop(); }

bool DecisionLog::Wants(DecisionApi api, bool allowed) const {
  switch (options_.mode[static_cast<int>(api)]) {
    case 1: return true;
    case 2: return !allowed;
    case 3: return UniformSample() < options_.sample_rate;
    default: return false;
  }
}

void DecisionLog::Record(const DecisionEntryView& entry) {
  PackedDecision packed;
  packed.Pack(entry, options_.max_reason_bytes, options_.max_field_bytes);
  if (!queue_.TryPush(packed)) {
    dropped_queue_.fetch_add(1, std::memory_order_relaxed);
    dropped_queue_counter_->Increment();
  }
}

void DecisionLog::Start() {
  writer_ = std::thread([this] { RunWriter(); });
  if (!options_.control_plane_url.empty()) shipper_ = std::thread([this] { RunShipper(); });
}

void DecisionLog::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_writer_.notify_all();
  wake_shipper_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (shipper_.joinable()) shipper_.join();
}

void DecisionLog::Mask(json& entry) const {
  for (const auto& pointer : options_.mask_pointers) {
    json::json_pointer at(pointer);
    if (entry.contains(at)) entry[at] = "****";
  }
  for (const auto& pointer : options_.drop_pointers) {
    json::json_pointer at(pointer);
    if (!entry.contains(at)) continue;
    json& parent = entry[at.parent_pointer()];
    if (parent.is_object()) parent.erase(at.back());
  }
}

void DecisionLog::RunWriter() {
  // Checks come first: where the writer and a request thread share a core, the scheduler should
  // favour the request. At nice 5 the writer still gets about a quarter of a core it contends
  // for, several times what spooling 100k entries a second takes, so it keeps up.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kWriterNice);
  // The most entries one segment takes: what 65,536 queued entries would become in a few turns.
  constexpr size_t kMaxSegmentEntries = 10'000;
  std::string segment;  // the entries taken; its buffer is kept across turns
  segment.reserve(1 << 20);
  // Entries are spooled in the compact form (decision_segment.h) and written as JSON when they
  // are shipped; masking works on the JSON, so masked entries are spooled as JSON lines.
  const bool masking = !options_.mask_pointers.empty() || !options_.drop_pointers.empty();
  SegmentEncoder encoder;
  LogThrottle spool_write_failures(std::chrono::seconds(10));
  uint64_t lost_since_logged = 0;  // entries lost to failed spool writes not yet in a log line
  while (true) {
    bool stopping;
    {
      std::unique_lock lock(mutex_);
      // The queue has no condition variable of its own (pushing must never take a lock), so
      // the writer polls it briefly; an idle edge costs a wakeup every 20 ms.
      wake_writer_.wait_for(lock, std::chrono::milliseconds(20), [this] { return stopping_; });
      stopping = stopping_;
    }
    uint64_t dropped = dropped_queue_.exchange(0, std::memory_order_relaxed);
    size_t room = options_.max_spool_entries > spool_->size() ? options_.max_spool_entries - spool_->size() : 0;
    uint64_t sequence = spool_->next_sequence();
    size_t taken = 0, kept = 0;
    if (masking) {
      segment.clear();
    } else {
      encoder.Start(segment);
    }
    // Each entry is added to the segment as it leaves the queue.
    while (taken < kMaxSegmentEntries) {
      auto entry = queue_.TryPop();
      if (!entry) break;
      ++taken;
      if (kept == room) continue;  // the spool is full: dropped below
      DecisionEntryView view = entry->View();
      if (masking) {
        json body = EntryJson(view, instance_id_, sequence++, options_.max_reason_bytes);
        Mask(body);
        segment += body.dump();
        segment += '\n';  // JSON never holds a raw newline: one entry per line
      } else {
        encoder.Add(segment, view);
      }
      ++kept;
    }
    if (taken > kept) {
      // The spool is full: the newest entries are dropped (the older ones are what an outage
      // would otherwise lose), counted, and reported with the next batch shipped.
      dropped_spool_counter_->Increment(taken - kept);
      dropped += taken - kept;
    }
    if (kept > 0 || dropped > 0) {
      Status appended = spool_->Append(segment, kept, dropped);
      if (!appended.ok()) {
        // This loop runs every 20 ms: a full disk would otherwise write an error line each time.
        uint64_t unlogged = 0;
        lost_since_logged += kept;
        if (spool_write_failures.Allow(LogThrottle::Clock::now(), &unlogged)) {
          spdlog::error("decision log: cannot write the spool ({} entries lost{}): {}", lost_since_logged,
                        unlogged > 0 ? " over " + std::to_string(unlogged + 1) + " attempts since the last report" : "",
                        appended.message());
          lost_since_logged = 0;
        }
        dropped_spool_counter_->Increment(kept);
        // Neither these entries nor the drops taken above reached the spool: reported later.
        dropped_queue_.fetch_add(dropped + kept, std::memory_order_relaxed);
      } else {
        if (spool_write_failures.Reset()) {
          spdlog::info("decision log: the spool is written again{}",
                       lost_since_logged > 0 ? " (" + std::to_string(lost_since_logged) + " more entries were lost)" : "");
          lost_since_logged = 0;
        }
        recorded_->Increment(kept);
        if (spool_->size() >= options_.batch_entries) wake_shipper_.notify_one();
      }
    }
    if (stopping && taken == 0) return;
  }
}

namespace {

// {"instance_id", "dropped", "entries": [...]} with the spooled lines spliced in (they are already
// the wire's JSON), after `prefix` (e.g. a message type).
std::string BatchJson(const std::string& prefix, const std::string& instance_id, const DecisionSpool::Batch& batch) {
  std::string body;
  body.reserve(prefix.size() + instance_id.size() + batch.lines.size() + 64);
  body += '{';
  body += prefix;
  body += "\"instance_id\":";
  AppendJsonString(body, instance_id);
  body += ",\"dropped\":";
  body += std::to_string(batch.dropped);
  if (batch.damaged > 0) {
    body += ",\"damaged\":";
    body += std::to_string(batch.damaged);
  }
  body += ",\"entries\":[";
  size_t start = body.size();
  body += batch.lines;
  // One entry per line: the newlines become the array's commas, the last one goes.
  for (size_t i = start; i < body.size(); ++i) {
    if (body[i] == '\n') body[i] = ',';
  }
  if (body.size() > start) body.pop_back();
  body += "]}";
  return body;
}

}  // namespace

void DecisionLog::SetSocketShipping(bool active) {
  socket_shipping_.store(active);
  if (!active) wake_shipper_.notify_one();
}

void DecisionLog::SetShipState(const char* state, const std::string& error) {
  std::lock_guard lock(mutex_);
  ship_state_ = state;
  ship_error_ = error;
}

Result<std::optional<DecisionLog::SocketBatch>> DecisionLog::NextBatch(const std::string& prefix) {
  auto batch = spool_->Oldest({batch_entry_bound_.load(), batch_byte_bound_.load(), options_.max_field_bytes});
  if (!batch.ok()) {
    // Shown, not only logged: a spool that cannot be read is not "shipping".
    SetShipState("retrying", "cannot read the spool: " + batch.status().message());
    return batch.status();
  }
  if (batch->count == 0 && batch->dropped == 0) return std::optional<SocketBatch>();
  SocketBatch out;
  out.message = BatchJson(prefix, instance_id_, *batch);
  out.through = batch->through;
  out.dropped = batch->dropped;
  out.damaged = batch->damaged;
  out.count = batch->count;
  out.bytes = batch->lines.size();
  return std::optional<SocketBatch>(std::move(out));
}

Result<std::optional<DecisionLog::SocketBatch>> DecisionLog::NextSocketBatch() {
  if (SteadyNanos() < refused_until_ns_.load()) return std::optional<SocketBatch>();
  // A POST begun before the socket came up is still out: its batch (and the drops it reports)
  // must not go twice. The session asks again after the flush interval; it never waits here.
  std::unique_lock one_shipper(ship_mutex_, std::try_to_lock);
  if (!one_shipper.owns_lock()) return std::optional<SocketBatch>();
  uint64_t id = next_batch_id_++;
  auto batch = NextBatch("\"type\":\"decision_logs\",\"batch\":" + std::to_string(id) + ",");
  if (batch.ok() && *batch) (*batch)->id = id;
  return batch;
}

Status DecisionLog::AcknowledgeSocketBatch(const SocketBatch& batch) {
  WARDEN_RETURN_IF_ERROR(spool_->Acknowledge(batch.through, batch.dropped, batch.damaged));
  Shipped(batch);
  return Status::Ok();
}

void DecisionLog::Shipped(const SocketBatch& batch) {
  shipped_->Increment(batch.count);
  // Back toward the configured bounds, doubling, so one refused entry does not slow every batch
  // after it, and a control plane whose limit is lower keeps the bound near it.
  batch_entry_bound_ = std::min(options_.batch_entries, std::max<size_t>(1, batch_entry_bound_.load()) * 2);
  batch_byte_bound_ = std::min(options_.max_batch_bytes, batch_byte_bound_.load() * 2);
  SetShipState("shipping", "");
}

void DecisionLog::RefuseSocketBatch(const SocketBatch& batch, const std::string& code, const std::string& message) {
  Refusal refusal = code == "too_large"                               ? Refusal::kTooLarge
                    : code == "forbidden" || code == "unauthenticated" ? Refusal::kForbidden
                                                                       : Refusal::kInvalid;
  Refused(batch, refusal, message);
}

void DecisionLog::Refused(const SocketBatch& batch, Refusal refusal, const std::string& message) {
  if (refusal == Refusal::kForbidden) {
    refused_until_ns_ = SteadyNanos() + std::chrono::nanoseconds(kRefusedWait).count();
    {
      std::lock_guard lock(mutex_);
      if (ship_error_ != message) {
        spdlog::error("decision log: the control plane refuses this edge's entries ({} spooled, kept): {}",
                      spool_->size(), message);
      }
    }
    SetShipState("refused", message);
    return;
  }
  const char* why = refusal == Refusal::kTooLarge ? "too large" : "invalid";
  if (batch.count > 1) {
    // Halves until the entry refused on its own is found; those before it go on being shipped.
    batch_entry_bound_ = std::max<size_t>(1, batch.count / 2);
    batch_byte_bound_ = std::max(kMinBatchBytes, batch.bytes / 2);
    spdlog::warn("decision log: the control plane refused a batch of {} entries ({} bytes) as {}: {}; sending it in "
                 "halves",
                 batch.count, batch.bytes, why, message);
    SetShipState("shipping", message);
    return;
  }
  if (batch.count == 0) return;  // drops alone: nothing to take back
  Status discarded = spool_->Discard(batch.through);
  if (!discarded.ok()) {
    spdlog::error("decision log: cannot discard the refused entry {}: {}", batch.through, discarded.message());
    return;
  }
  dropped_refused_counter_->Increment();
  spdlog::error("decision log: the control plane refused entry {} on its own as {}: {}; dropped (counted and "
                "reported)",
                batch.through, why, message);
  SetShipState("shipping", message);
}

Result<size_t> DecisionLog::ShipOnce() {
  auto batch = NextBatch("");
  if (!batch.ok()) return batch.status();
  if (!*batch) return size_t{0};
  http::ClientRequest request;
  request.method = "POST";
  request.url = options_.control_plane_url + "/v1/decision-logs";
  request.body = std::move((*batch)->message);
  request.headers.emplace_back("Authorization", "Bearer " + options_.key);
  request.tls = options_.tls;
  request.timeout = std::chrono::seconds(30);
  auto response = http::Fetch(request);
  if (!response.ok()) return response.status();
  std::string answer = "POST /v1/decision-logs answered HTTP " + std::to_string(response->status) + ": " +
                       response->body.substr(0, 200);
  switch (response->status) {
    case 200: break;
    case 413:
    case 400:
      // What the batch held: sent again at once, smaller, or without the entry refused alone.
      Refused(**batch, response->status == 413 ? Refusal::kTooLarge : Refusal::kInvalid, answer);
      return size_t{1};
    case 401:
    case 403:
      Refused(**batch, Refusal::kForbidden, answer);
      return Status::PermissionDenied(answer);
    default: return Status::Unavailable(answer);
  }
  WARDEN_RETURN_IF_ERROR(spool_->Acknowledge((*batch)->through, (*batch)->dropped, (*batch)->damaged));
  Shipped(**batch);
  return (*batch)->count + ((*batch)->dropped > 0 ? 1 : 0);
}

void DecisionLog::RunShipper() {
  std::mt19937 random(std::random_device{}());
  std::chrono::milliseconds backoff{0};
  while (true) {
    if (socket_shipping_.load()) {
      // The sync socket carries the batches while it is up.
      std::unique_lock lock(mutex_);
      if (stopping_) return;
      wake_shipper_.wait_for(lock, options_.flush_interval, [this] { return stopping_; });
      continue;
    }
    Result<size_t> shipped = size_t{0};
    {
      // The socket may have come up since the check above: whichever of the two takes the spool
      // first ships, so one batch's drops are never reported by both.
      std::lock_guard one_shipper(ship_mutex_);
      if (socket_shipping_.load()) continue;
      shipped = ShipOnce();
    }
    std::chrono::milliseconds wait = options_.flush_interval;
    if (shipped.ok()) {
      backoff = std::chrono::milliseconds(0);
      if (*shipped > 0) {
        wait = std::chrono::milliseconds(0);  // more may wait
      } else {
        SetShipState("shipping", "");  // reachable, and nothing waits
      }
    } else {
      backoff = std::min(std::chrono::milliseconds(10'000), std::max(std::chrono::milliseconds(200), backoff * 2));
      std::uniform_int_distribution<int64_t> jitter(0, backoff.count() / 2);
      wait = backoff + std::chrono::milliseconds(jitter(random));
      // A refusal of the edge itself was logged and shown by Refused.
      if (shipped.status().code() != StatusCode::kPermissionDenied) {
        std::lock_guard lock(mutex_);
        if (ship_error_ != shipped.status().message()) {
          spdlog::warn("decision log: cannot ship ({} entries spooled): {}", spool_->size(), shipped.status().message());
        }
        ship_state_ = "retrying";
        ship_error_ = shipped.status().message();
      }
    }
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    if (wait.count() > 0) {
      wake_shipper_.wait_for(lock, wait, [this] { return stopping_; });
      if (stopping_) return;
    }
  }
}

json DecisionLog::StatusJson() const {
  std::lock_guard lock(mutex_);
  json status = {{"spooled", spool_->size()},
                 {"next_sequence", spool_->next_sequence()},
                 {"dropped_unreported", spool_->dropped_unreported()},
                 {"damaged", spool_->damaged_total()},
                 {"shipping", options_.control_plane_url.empty() ? "off" : ship_state_}};
  if (!ship_error_.empty()) status["error"] = ship_error_;
  return status;
}

}  // namespace warden::edge
