#include "control-plane/sync_hub.h"

#include <algorithm>
#include <charconv>
#include <deque>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/protocol/delta.h"
#include "common/protocol/sync_messages.h"
#include "control-plane/api_support.h"
#include "control-plane/decision_api.h"  // DecisionRefusalCode

namespace warden::control_plane {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Sends at most this much ahead of the socket, so a snapshot streams as fast as the edge reads it
// and no faster.
constexpr size_t kSnapshotSendAhead = 2u << 20;

// A whole-number field, 0 when absent. Anything else (a fraction, 1e57, a string) throws the
// type_error Handle answers bad_message, where converting it would be undefined behaviour.
template <typename T>
T WholeField(const json& message, const char* field) {
  auto it = message.find(field);
  if (it == message.end()) return 0;
  if (!it->is_number_integer()) {
    throw json::type_error::create(302, std::string(field) + ": must be a whole number", &*it);
  }
  return it->get<T>();
}

// The revision of an ack spelled exactly {"type":"ack","revision":N} (N a JSON unsigned integer
// that fits 64 bits), or nullopt.
std::optional<uint64_t> PlainAck(std::string_view message) {
  constexpr std::string_view kPrefix = R"({"type":"ack","revision":)";
  if (message.size() < kPrefix.size() + 2 || message.substr(0, kPrefix.size()) != kPrefix || message.back() != '}') {
    return std::nullopt;
  }
  std::string_view digits = message.substr(kPrefix.size(), message.size() - kPrefix.size() - 1);
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;  // not JSON
  uint64_t revision = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), revision);
  if (error != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return revision;
}

}  // namespace

// One edge's session. The server's threads touch only the inbox and the flags (under `mutex`);
// everything else belongs to the hub thread.
class SyncHub::Session final : public http::WebSocketSession {
 public:
  Session(SyncHub& hub, std::string key_id, std::string key_name, std::string address)
      : hub_(hub) {
    live.key_id = std::move(key_id);
    live.key_name = std::move(key_name);
    live.address = std::move(address);
    live.session_id = RandomHex(8);
    live.state = "connecting";
    last_heard = Clock::now();
  }

  void OnOpen(std::shared_ptr<http::WebSocketChannel> opened) override {
    {
      std::lock_guard lock(mutex);
      channel = std::move(opened);
      poked = true;
    }
    hub_.Wake();
  }
  void OnMessage(std::string message) override {
    {
      std::lock_guard lock(mutex);
      inbox.push_back(std::move(message));
      last_heard = Clock::now();
      poked = true;
    }
    hub_.Wake();
  }
  void OnDrained() override {
    {
      std::lock_guard lock(mutex);
      poked = true;
    }
    hub_.Wake();
  }
  void OnClose() override {
    {
      std::lock_guard lock(mutex);
      closed = true;
      poked = true;
    }
    hub_.Wake();
  }

  void Send(const json& message) {
    if (channel) channel->Send(message.dump());
  }

  // Shared with the server's threads.
  std::mutex mutex;
  std::vector<std::string> inbox;
  bool closed = false;
  // Something happened since the hub last looked (a message, a drained socket, the open or the
  // close): the hub turns only such sessions and those behind the latest revision, so an ack
  // from one edge does not cost a look at every other.
  bool poked = false;
  Clock::time_point last_heard;
  std::shared_ptr<http::WebSocketChannel> channel;  // set once by OnOpen
  LiveEdge live;                                    // read by LiveEdges() under `mutex`

  // The hub thread's own.
  enum class Phase { kAwaitHello, kSnapshot, kStreaming, kHalted, kEnded };
  Phase phase = Phase::kAwaitHello;
  uint64_t cursor = 0;  // the last revision sent
  uint64_t acked = 0;
  std::deque<std::pair<uint64_t, size_t>> in_flight;  // (revision, bytes), oldest first
  size_t in_flight_bytes = 0;
  std::shared_ptr<const ChunkedSnapshot> snapshot;
  size_t next_chunk = 0;
  uint64_t snapshot_revision = 0;  // the last snapshot sent (its ack ends the grace for silence)
  bool dirty = true;  // the stored edge row is behind `live`

 private:
  SyncHub& hub_;
};

SyncHub::SyncHub(ControlPlane& cp, HubOptions options, metrics::Registry& registry)
    : cp_(cp),
      options_(options),
      recent_(std::max<size_t>(options.window_revisions, 64), std::max<size_t>(2 * options.window_bytes, 1u << 20)) {
  latest_revision_.store(cp_.current()->revision);
  snapshots_sent_ = &registry.AddCounter("warden_cp_sync_snapshots_sent_total", "Snapshots streamed to edges");
  revisions_sent_ = &registry.AddCounter("warden_cp_sync_revisions_sent_total", "Revisions streamed to edges as deltas");
  nacks_ = &registry.AddCounter("warden_cp_sync_nacks_total", "Revisions edges could not apply");
  sessions_refused_ = &registry.AddCounter("warden_cp_sync_refused_total", "Sync upgrades refused (bad or revoked key)");
  registry.AddCallbackGauge("warden_cp_sync_sessions", "Open edge sync sessions", {}, [this] {
    std::lock_guard lock(mutex_);
    return static_cast<double>(sessions_.size());
  });
}

SyncHub::~SyncHub() { Stop(); }

void SyncHub::Start() { thread_ = std::thread([this] { Run(); }); }

void SyncHub::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  ReleaseLongPolls();
  if (thread_.joinable()) thread_.join();
}

void SyncHub::ReleaseLongPolls() {
  long_polls_released_.store(true);
  std::lock_guard lock(long_poll_waker_mutex_);
  if (long_poll_waker_) long_poll_waker_();
}

bool SyncHub::LongPollMayAnswer(uint64_t after) const {
  return latest_revision_.load() > after || long_polls_released_.load();
}

void SyncHub::SetLongPollWaker(std::function<void()> waker) {
  std::lock_guard lock(long_poll_waker_mutex_);
  long_poll_waker_ = std::move(waker);
}

void SyncHub::Wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_one();
}

http::UpgradeDecision SyncHub::Upgrade(http::Request& request) {
  http::UpgradeDecision decision;
  std::string_view authorization = request.header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.substr(0, kBearer.size()) != kBearer) {
    sessions_refused_->Increment();
    decision.refusal = http::ErrorResponse(401, "unauthenticated", "Authorization: an edge key is required (Bearer)")
                           .with_header("WWW-Authenticate", "Bearer realm=\"warden-sync\"");
    return decision;
  }
  auto key = cp_.AuthenticateKey(authorization.substr(kBearer.size()));
  if (!key.ok()) {
    sessions_refused_->Increment();
    decision.refusal = http::ErrorResponse(401, "unauthenticated", "Authorization: invalid or revoked edge key")
                           .with_header("WWW-Authenticate", "Bearer realm=\"warden-sync\", error=\"invalid_token\"");
    return decision;
  }
  auto session = std::make_shared<Session>(*this, key->id, key->name, std::string(request.header("X-Forwarded-For")));
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      decision.refusal = http::ErrorResponse(503, "shutting_down", "the control plane is stopping");
      return decision;
    }
    sessions_.push_back(session);
  }
  decision.session = std::move(session);
  return decision;
}

void SyncHub::OnCommit(uint64_t revision) {
  uint64_t latest = latest_revision_.load();
  while (latest < revision && !latest_revision_.compare_exchange_weak(latest, revision)) {
  }
  // Runs on the writer's thread, under its lock: the store's latest change is this revision's.
  if (cp_.store().last_change_bytes() > protocol::kMaxMessagePayload) large_revision_.store(revision);
  {
    std::lock_guard lock(long_poll_waker_mutex_);
    if (long_poll_waker_) long_poll_waker_();
  }
  Wake();
}

void SyncHub::OnKeyRevoked(const std::string& key_id) {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(mutex_);
    sessions = sessions_;
  }
  for (auto& session : sessions) {
    std::lock_guard lock(session->mutex);
    if (session->live.key_id != key_id || !session->channel) continue;
    session->channel->Send(json{{"type", "error"}, {"code", "key_revoked"}, {"message", "this edge key was revoked"}}.dump());
    session->channel->Close(protocol::kCloseKeyRevoked, "key_revoked");
  }
}

std::shared_ptr<const ChunkedSnapshot> SyncHub::CurrentSnapshot() {
  std::lock_guard lock(snapshot_mutex_);
  auto current = cp_.current();
  if (snapshot_ && snapshot_->snapshot->revision == current->revision &&
      snapshot_->snapshot->store_id == current->store_id) {
    return snapshot_;
  }
  auto started = Clock::now();
  auto chunked = std::make_shared<ChunkedSnapshot>();
  chunked->snapshot = protocol::SerializeSnapshot(*current);
  const std::string& body = chunked->snapshot->body;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = std::min(body.size(), start + protocol::kMaxMessagePayload);
    if (end < body.size()) {
      size_t newline = body.find('\n', end - 1);
      end = newline == std::string::npos ? body.size() : newline + 1;
    }
    chunked->chunk_ends.push_back(end);
    start = end;
  }
  snapshot_ = chunked;
  auto ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  spdlog::info("sync: built the snapshot of revision {} ({} relations, {} bytes) in {:.0f} ms", current->revision,
               chunked->snapshot->counts.relations, body.size(), ms);
  return snapshot_;
}

std::vector<LiveEdge> SyncHub::LiveEdges() const {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(mutex_);
    sessions = sessions_;
  }
  std::vector<LiveEdge> out;
  for (const auto& session : sessions) {
    std::lock_guard lock(session->mutex);
    if (!session->live.instance_id.empty()) out.push_back(session->live);
  }
  return out;
}

void SyncHub::Run() {
  auto next_heartbeat = Clock::now() + options_.heartbeat;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, next_heartbeat, [this] { return woken_ || stopping_; });
      woken_ = false;
      if (stopping_) break;
    }
    next_heartbeat = Turn(next_heartbeat);
  }
  // Stopping: every session is told, and its edge recorded as disconnected.
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(mutex_);
    sessions.swap(sessions_);
  }
  std::vector<EdgeInfo> gone;
  for (auto& session : sessions) {
    std::lock_guard lock(session->mutex);
    if (session->channel) {
      session->channel->Send(json{{"type", "error"}, {"code", "shutting_down"}, {"message", "the control plane is stopping"}}.dump());
      session->channel->Close(protocol::kCloseGoingAway, "shutting_down");
    }
    if (!session->live.instance_id.empty()) {
      gone.push_back({session->live.instance_id, session->live.key_id, session->live.address, session->live.build,
                      "disconnected", session->live.revision, UnixNow()});
    }
  }
  if (!gone.empty()) (void)cp_.store().UpsertEdges(gone);
}

Clock::time_point SyncHub::Turn(Clock::time_point next_heartbeat) {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(mutex_);
    sessions = sessions_;
  }
  uint64_t latest = cp_.current()->revision;
  // A large revision (an import) is read and cut into parts before its first part leaves, which
  // takes a while: every edge behind it hears first that the hub holds it, so its lag says so.
  if (uint64_t large = large_revision_.load(); large > announced_) {
    announced_ = large;
    for (auto& session : sessions) {
      if (session->phase == Session::Phase::kStreaming && session->cursor < large && session->channel) {
        session->Send({{"type", "heartbeat"}, {"revision", large}});
      }
    }
  }
  for (auto& session : sessions) Pump(*session, latest);
  auto now = Clock::now();
  if (now >= next_heartbeat) {
    Heartbeat(now);
    next_heartbeat = now + options_.heartbeat;
  }
  // Sessions whose socket closed leave the list; their edge is recorded as disconnected.
  std::vector<std::shared_ptr<Session>> ended;
  {
    std::lock_guard lock(mutex_);
    auto it = std::stable_partition(sessions_.begin(), sessions_.end(),
                                    [](const std::shared_ptr<Session>& s) { return s->phase != Session::Phase::kEnded; });
    ended.assign(it, sessions_.end());
    sessions_.erase(it, sessions_.end());
  }
  std::vector<EdgeInfo> gone;
  for (auto& session : ended) {
    std::lock_guard lock(session->mutex);
    if (session->live.instance_id.empty()) continue;
    spdlog::info("sync: edge {} disconnected at revision {}", session->live.instance_id, session->live.revision);
    gone.push_back({session->live.instance_id, session->live.key_id, session->live.address, session->live.build,
                    "disconnected", session->live.revision, UnixNow()});
  }
  if (!gone.empty()) {
    if (Status s = cp_.store().UpsertEdges(gone); !s.ok()) spdlog::warn("sync: cannot record edges: {}", s.message());
  }
  return next_heartbeat;
}

void SyncHub::Pump(Session& session, uint64_t latest) {
  if (session.phase == Session::Phase::kEnded) return;
  bool behind = session.phase == Session::Phase::kStreaming && session.cursor < latest;
  std::vector<std::string> inbox;
  bool closed;
  {
    std::lock_guard lock(session.mutex);
    if (!session.channel) return;  // not open yet
    if (!session.poked && !behind) return;
    session.poked = false;
    inbox.swap(session.inbox);
    closed = session.closed;
  }
  if (closed) {
    session.phase = Session::Phase::kEnded;
    return;
  }
  for (const auto& message : inbox) {
    Handle(session, message);
    if (session.phase == Session::Phase::kEnded) return;
  }
  if (session.phase == Session::Phase::kSnapshot) SendSnapshotChunks(session);
  if (session.phase == Session::Phase::kStreaming) SendDeltas(session, latest);
}

void SyncHub::Fail(Session& session, const std::string& code, uint16_t close_code, const std::string& message) {
  spdlog::warn("sync: ending session {} ({}): {}: {}", session.live.session_id,
               session.live.instance_id.empty() ? session.live.key_name : session.live.instance_id, code, message);
  session.Send(json{{"type", "error"}, {"code", code}, {"message", message}});
  session.channel->Close(close_code, code);
  session.phase = Session::Phase::kHalted;
}

void SyncHub::HandleAck(Session& session, uint64_t revision) {
  if (revision <= session.acked || revision > session.cursor) return;  // not sent, or acked already
  session.acked = revision;
  while (!session.in_flight.empty() && session.in_flight.front().first <= revision) {
    session.in_flight_bytes -= session.in_flight.front().second;
    session.in_flight.pop_front();
  }
  std::lock_guard lock(session.mutex);
  session.live.revision = revision;
  session.live.last_seen = UnixNow();
  session.dirty = true;
}

void SyncHub::Handle(Session& session, const std::string& message) {
  // Every edge acks every revision: an ack written as this build's edges write it is read without
  // a JSON document (parsing one cost about 8k instructions per ack, fifty per revision at fifty
  // edges). Any other spelling takes the general path below.
  if (session.phase != Session::Phase::kAwaitHello) {
    if (auto revision = PlainAck(message)) {
      HandleAck(session, *revision);
      return;
    }
  }
  json parsed = json::parse(message, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("type") || !parsed["type"].is_string()) {
    Fail(session, "bad_message", protocol::kCloseBadMessage, "a message must be a JSON object with a string \"type\"");
    return;
  }
  try {
    Dispatch(session, parsed);
  } catch (const json::exception& error) {
    // A field of the wrong type ("batch": "x"). Escaping, it would end the hub thread and with it
    // the control plane.
    Fail(session, "bad_message", protocol::kCloseBadMessage,
         parsed["type"].get<std::string>() + ": a field has the wrong type: " + error.what());
  }
}

void SyncHub::Dispatch(Session& session, const json& parsed) {
  const std::string type = parsed["type"].get<std::string>();
  auto revision_of = [&parsed]() -> std::optional<uint64_t> {
    if (!parsed.contains("revision") || !parsed["revision"].is_number_unsigned()) return std::nullopt;
    return parsed["revision"].get<uint64_t>();
  };
  if (type == "hello") {
    if (session.phase != Session::Phase::kAwaitHello) {
      Fail(session, "bad_message", protocol::kCloseBadMessage, "hello: sent twice");
      return;
    }
    HandleHello(session, parsed);
  } else if (session.phase == Session::Phase::kAwaitHello) {
    Fail(session, "bad_message", protocol::kCloseBadMessage, type + ": the first message must be hello");
  } else if (type == "ack") {
    auto revision = revision_of();
    if (!revision) {
      Fail(session, "bad_message", protocol::kCloseBadMessage, "ack.revision: required, an unsigned integer");
      return;
    }
    HandleAck(session, *revision);
  } else if (type == "nack") {
    auto revision = revision_of();
    std::string code = parsed.value("code", std::string("cannot_apply"));
    std::string reason = parsed.value("message", std::string());
    nacks_->Increment();
    spdlog::warn("sync: edge {} cannot apply revision {}: {}: {}", session.live.instance_id, revision.value_or(0),
                 code, reason);
    session.phase = Session::Phase::kHalted;  // it cannot move past this revision; heartbeats only
    std::lock_guard lock(session.mutex);
    session.live.state = "degraded";
    session.live.error = "revision " + std::to_string(revision.value_or(0)) + ": " + code + ": " + reason;
    session.dirty = true;
  } else if (type == "heartbeat") {
    std::lock_guard lock(session.mutex);
    session.live.last_seen = UnixNow();
  } else if (type == "decision_logs") {
    // Stored before it is acknowledged; a batch whose ack is lost comes again and is stored once.
    auto answer = decision_sink_ ? decision_sink_(session.live.key_id, parsed)
                                 : Result<json>(Status::Unavailable("this control plane takes no decision logs"));
    if (answer.ok()) {
      json ack = *answer;
      ack["type"] = "decision_logs_ack";
      ack["batch"] = WholeField<uint64_t>(parsed, "batch");
      session.Send(ack);
    } else if (answer.status().code() != StatusCode::kUnavailable) {
      // The code tells the edge whether to split the batch or to keep it and wait; resending it
      // as it was would refuse it again for good.
      session.Send({{"type", "decision_logs_refused"},
                    {"batch", WholeField<uint64_t>(parsed, "batch")},
                    {"code", DecisionRefusalCode(answer.status())},
                    {"message", answer.status().message()}});
    }
  } else {
    Fail(session, "bad_message", protocol::kCloseBadMessage, "type: unknown message '" + type + "'");
  }
}

void SyncHub::HandleHello(Session& session, const json& hello) {
  int chosen = 0;
  if (hello.contains("protocol_versions") && hello["protocol_versions"].is_array()) {
    for (const auto& version : hello["protocol_versions"]) {
      if (!version.is_number_integer()) continue;
      int v = version.get<int>();
      if (v >= protocol::kOldestProtocolVersion && v <= protocol::kProtocolVersion) chosen = std::max(chosen, v);
    }
  }
  if (chosen == 0) {
    Fail(session, "unsupported_protocol", protocol::kCloseUnsupportedProtocol,
         "this control plane speaks protocol versions " + std::to_string(protocol::kOldestProtocolVersion) + " to " +
             std::to_string(protocol::kProtocolVersion) + "; hello.protocol_versions names none of them");
    return;
  }
  auto text = [&hello](const char* field) {
    return hello.contains(field) && hello[field].is_string() ? hello[field].get<std::string>() : std::string();
  };
  std::string instance_id = text("instance_id");
  if (instance_id.empty() || instance_id.size() > 64) {
    Fail(session, "bad_message", protocol::kCloseBadMessage, "hello.instance_id: required, 1 to 64 characters");
    return;
  }
  if (instance_binder_) {
    Status bound = instance_binder_(instance_id, session.live.key_name);
    if (!bound.ok()) {
      spdlog::warn("sync: edge {} (key '{}'): {}; its decision logs will be refused", instance_id,
                   session.live.key_name, bound.message());
    }
  }
  if (!hello.contains("revision") || !hello["revision"].is_number_unsigned()) {
    Fail(session, "bad_message", protocol::kCloseBadMessage, "hello.revision: required, an unsigned integer");
    return;
  }
  uint64_t edge_revision = hello["revision"].get<uint64_t>();
  std::string edge_store = text("store_id");
  auto current = cp_.current();
  const char* why_snapshot = nullptr;
  if (edge_revision == 0) {
    why_snapshot = "it holds nothing";
  } else if (edge_store != cp_.store_id()) {
    why_snapshot = "it holds another store";
  } else if (edge_revision > current->revision) {
    why_snapshot = "it is ahead of this store (a restored backup?)";
  } else if (edge_revision < cp_.store().compacted_through()) {
    why_snapshot = "its revision was compacted out of the change log";
  }
  {
    std::lock_guard lock(session.mutex);
    session.live.instance_id = instance_id;
    session.live.build = text("build");
    session.live.feature_level = WholeField<int>(hello, "feature_level");
    if (!text("address").empty()) session.live.address = text("address");
    if (session.live.address.empty()) session.live.address = session.channel->remote_address();
    session.live.revision = why_snapshot ? 0 : edge_revision;
    session.live.state = "connected";
    session.live.last_seen = UnixNow();
    session.dirty = true;
  }
  session.Send({{"type", "welcome"},
                {"protocol_version", chosen},
                {"store_id", cp_.store_id()},
                {"revision", current->revision},
                {"heartbeat_ms", options_.heartbeat.count()},
                {"session_id", session.live.session_id},
                {"resume", why_snapshot ? "snapshot" : "deltas"}});
  spdlog::info("sync: edge {} ({}, key '{}') at revision {}: {}", instance_id, session.live.address,
               session.live.key_name, edge_revision,
               why_snapshot ? std::string("snapshot, as ") + why_snapshot : std::string("resuming from the change log"));
  if (why_snapshot) {
    StartSnapshot(session);
  } else {
    session.cursor = session.acked = edge_revision;
    session.phase = Session::Phase::kStreaming;
  }
}

void SyncHub::StartSnapshot(Session& session) {
  session.snapshot = CurrentSnapshot();
  session.next_chunk = 0;
  session.in_flight.clear();
  session.in_flight_bytes = 0;
  const auto& snap = *session.snapshot->snapshot;
  session.Send({{"type", "snapshot_begin"},
                {"format", protocol::kSnapshotFormat},
                {"store_id", snap.store_id},
                {"revision", snap.revision},
                {"counts", snap.counts.ToJson()},
                {"chunks", session.snapshot->chunk_ends.size()}});
  session.phase = Session::Phase::kSnapshot;
  snapshots_sent_->Increment();
}

void SyncHub::SendSnapshotChunks(Session& session) {
  const auto& chunked = *session.snapshot;
  const std::string& body = chunked.snapshot->body;
  while (session.next_chunk < chunked.chunk_ends.size() && session.channel->queued_bytes() < kSnapshotSendAhead) {
    size_t begin = session.next_chunk == 0 ? 0 : chunked.chunk_ends[session.next_chunk - 1];
    size_t end = chunked.chunk_ends[session.next_chunk];
    json chunk = {{"type", "snapshot_chunk"}, {"index", session.next_chunk}};
    chunk["data"] = std::string_view(body).substr(begin, end - begin);
    session.Send(chunk);
    ++session.next_chunk;
  }
  if (session.next_chunk < chunked.chunk_ends.size()) return;  // more once the socket drains
  uint64_t revision = chunked.snapshot->revision;
  session.Send({{"type", "snapshot_end"}, {"revision", revision}, {"sha256", chunked.snapshot->sha256}});
  session.cursor = revision;
  session.acked = std::min(session.acked, revision);
  session.snapshot_revision = revision;
  session.in_flight.emplace_back(revision, 0);
  session.snapshot.reset();
  session.phase = Session::Phase::kStreaming;
}

void SyncHub::SendDeltas(Session& session, uint64_t latest) {
  while (session.cursor < latest && session.in_flight.size() < options_.window_revisions &&
         session.in_flight_bytes < options_.window_bytes) {
    size_t room = options_.window_revisions - session.in_flight.size();
    auto revisions = recent_.After(cp_.store(), session.cursor, std::min<size_t>(room, 64));
    if (!revisions.ok()) {
      if (revisions.status().code() == StatusCode::kOutOfRange) {
        spdlog::info("sync: edge {} fell behind compaction at revision {}; sending a snapshot", session.live.instance_id,
                     session.cursor);
      } else if (revisions.status().code() == StatusCode::kUnavailable) {
        return;  // busy: the next turn tries again
      } else {
        // A damaged change log would otherwise hold the edge at its revision for good; the
        // snapshot comes from memory, which holds every committed revision whole.
        spdlog::error("sync: cannot read the change log after revision {} ({}); sending edge {} a snapshot instead",
                      session.cursor, revisions.status().message(), session.live.instance_id);
      }
      StartSnapshot(session);
      SendSnapshotChunks(session);
      return;
    }
    if (revisions->empty()) return;
    for (const auto& encoded : *revisions) {
      if (encoded->revision != session.cursor + 1) {
        StartSnapshot(session);
        return;
      }
      for (const auto& message : encoded->messages) session.channel->Send(message);
      session.cursor = encoded->revision;
      session.in_flight.emplace_back(encoded->revision, encoded->ops_bytes);
      session.in_flight_bytes += encoded->ops_bytes;
      revisions_sent_->Increment();
    }
  }
}

void SyncHub::Heartbeat(Clock::time_point now) {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(mutex_);
    sessions = sessions_;
  }
  uint64_t latest = cp_.current()->revision;
  auto keys = cp_.store().KeyHashes();
  for (auto& session : sessions) {
    if (session->phase == Session::Phase::kEnded || !session->channel) continue;
    Clock::time_point last_heard;
    {
      std::lock_guard lock(session->mutex);
      last_heard = session->last_heard;
    }
    if (keys.ok() && std::none_of(keys->begin(), keys->end(),
                                  [&](const CredentialHash& key) { return key.id == session->live.key_id; })) {
      Fail(*session, "key_revoked", protocol::kCloseKeyRevoked, "this edge key was revoked");
      continue;
    }
    // An edge applying a snapshot cannot answer until it is done; its silence counts from the
    // snapshot's ack (bounded, so a stuck edge still ends).
    bool applying = session->phase == Session::Phase::kSnapshot ||
                    (session->snapshot_revision > 0 && session->acked < session->snapshot_revision);
    auto allowed_silence = 3 * options_.heartbeat + (applying ? std::chrono::minutes(10) : std::chrono::minutes(0));
    if (now - last_heard > allowed_silence) {
      Fail(*session, "heartbeat_timeout", protocol::kCloseHeartbeatTimeout,
           "nothing received for " + std::to_string(3 * options_.heartbeat.count()) + " ms");
      continue;
    }
    // Heartbeats start with the welcome; before it only the silence bound applies.
    if (session->phase != Session::Phase::kAwaitHello) session->Send({{"type", "heartbeat"}, {"revision", latest}});
  }
  PersistEdges();
}

void SyncHub::PersistEdges() {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(mutex_);
    sessions = sessions_;
  }
  std::vector<EdgeInfo> rows;
  for (auto& session : sessions) {
    std::lock_guard lock(session->mutex);
    if (session->live.instance_id.empty() || !session->dirty) continue;
    session->dirty = false;
    const LiveEdge& e = session->live;
    rows.push_back({e.instance_id, e.key_id, e.address, e.build, e.state, e.revision, e.last_seen});
  }
  if (rows.empty()) return;
  if (Status s = cp_.store().UpsertEdges(rows); !s.ok()) spdlog::warn("sync: cannot record edges: {}", s.message());
}

}  // namespace warden::control_plane
