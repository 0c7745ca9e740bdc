#include "edge/pull_follower.h"

#include <random>

#include <spdlog/spdlog.h>

#include "common/http/client.h"
#include "common/protocol/apply.h"

namespace warden::edge {

using nlohmann::json;

PullFollower::PullFollower(FollowOptions options, SnapshotHolder& holder, Replica* replica)
    : options_(std::move(options)), holder_(holder), replica_(replica) {}

PullFollower::~PullFollower() { Stop(); }

void PullFollower::Start() {
  latest_ = holder_.Current();
  thread_ = std::thread([this] { Run(); });
}

void PullFollower::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PullFollower::SetState(const char* state, const std::string& error) {
  std::lock_guard lock(mutex_);
  if (state_ != state || error_ != error) {
    if (error.empty()) {
      spdlog::info("sync: {}", state);
    } else {
      spdlog::warn("sync: {}: {}", state, error);
    }
  }
  state_ = state;
  error_ = error;
}

json PullFollower::Status() const {
  std::lock_guard lock(mutex_);
  uint64_t held = holder_.revision();
  json status = {{"mode", "pull"},
                 {"control_plane", options_.control_plane_url},
                 {"state", state_},
                 {"revision", held},
                 {"hub_revision", hub_revision_},
                 {"lag", hub_revision_ > held ? hub_revision_ - held : 0}};
  if (last_sync_.time_since_epoch().count() != 0) {
    status["last_sync_seconds_ago"] =
        std::chrono::duration<double>(std::chrono::system_clock::now() - last_sync_).count();
  }
  if (!error_.empty()) status["error"] = error_;
  return status;
}

warden::Status PullFollower::StartOver(const std::string& store_id) {
  auto empty = MakeSnapshot({}, directory::DirectorySnapshot::Empty(), 0, store_id);
  if (!empty.ok()) return empty.status();
  if (replica_ != nullptr) WARDEN_RETURN_IF_ERROR(replica_->ReplaceWith(**empty));
  // Revision 0 is not published: an edge that has applied nothing is not ready.
  latest_ = *empty;
  return warden::Status::Ok();
}

// GET `path` on the control plane with the edge's token; the body as JSON.
static Result<json> GetJson(const FollowOptions& options, const std::string& path) {
  http::ClientRequest request;
  request.url = options.control_plane_url + path;
  request.headers.emplace_back("Authorization", "Bearer " + options.token);
  auto response = http::Fetch(request);
  if (!response.ok()) return response.status();
  if (response->status == 401 || response->status == 403) {
    return warden::Status::PermissionDenied("the control plane refused the token (HTTP " +
                                            std::to_string(response->status) + ")");
  }
  if (response->status != 200) {
    return warden::Status::Unavailable("GET " + path + " answered HTTP " + std::to_string(response->status) + ": " +
                                       response->body.substr(0, 200));
  }
  json body = json::parse(response->body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return warden::Status::Unavailable("GET " + path + " answered something that is not a JSON object");
  }
  return body;
}

Result<size_t> PullFollower::Poll() {
  auto head = GetJson(options_, "/v1/revision");
  if (!head.ok()) return head.status();
  std::string store_id = head->value("store_id", std::string());
  uint64_t hub_revision = head->value("revision", uint64_t{0});
  if (store_id.empty()) return warden::Status::Unavailable("GET /v1/revision named no store_id");
  std::shared_ptr<const Snapshot> current = latest_;
  if (current && current->store_id != store_id) {
    spdlog::warn("sync: the control plane serves store {} but this edge holds {}; starting over", store_id,
                 current->store_id);
    current = nullptr;
  } else if (current && current->revision > hub_revision) {
    spdlog::warn("sync: this edge holds revision {} but the control plane only {} (a restored store?); starting over",
                 current->revision, hub_revision);
    current = nullptr;
  }
  if (!current) {
    WARDEN_RETURN_IF_ERROR(StartOver(store_id));
    current = latest_;
  }
  {
    std::lock_guard lock(mutex_);
    hub_revision_ = hub_revision;
    last_sync_ = std::chrono::system_clock::now();
  }
  if (current->revision == hub_revision) return size_t{0};
  auto body = GetJson(options_, "/v1/changes?after=" + std::to_string(current->revision) +
                                    "&limit=" + std::to_string(options_.batch));
  if (!body.ok()) return body.status();
  if (!body->contains("changes") || !(*body)["changes"].is_array()) {
    return warden::Status::Unavailable("GET /v1/changes answered something that is not a change list");
  }
  size_t applied = 0;
  for (const auto& change : (*body)["changes"]) {
    uint64_t revision = change.value("revision", uint64_t{0});
    if (revision <= current->revision) continue;  // already held
    if (revision != current->revision + 1) {
      return warden::Status::FailedPrecondition("gap in the change log: holding " + std::to_string(current->revision) +
                                                ", next offered " + std::to_string(revision) +
                                                " (compacted; a snapshot is needed)");
    }
    auto ops = protocol::OpsFromJson(change.value("ops", json::array()));
    if (!ops.ok()) return ops.status().WithPrefix("revision " + std::to_string(revision));
    auto next = protocol::ApplyRevision(*current, revision, *ops);
    if (!next.ok()) return next.status().WithPrefix("revision " + std::to_string(revision));
    if (replica_ != nullptr) WARDEN_RETURN_IF_ERROR(replica_->ApplyRevision(revision, *ops));
    holder_.Publish(*next);
    latest_ = *next;
    current = std::move(*next);
    ++applied;
  }
  return applied;
}

void PullFollower::Run() {
  std::mt19937 random(std::random_device{}());
  std::chrono::milliseconds backoff{0};
  while (true) {
    auto polled = Poll();
    std::chrono::milliseconds wait = options_.poll_interval;
    if (polled.ok()) {
      backoff = std::chrono::milliseconds(0);
      SetState("following", "");
      if (*polled > 0) wait = std::chrono::milliseconds(0);  // more may be waiting
    } else {
      // Exponential backoff with jitter, so a fleet of edges does not return in step.
      backoff = std::min(std::chrono::milliseconds(10'000), std::max(options_.poll_interval, backoff * 2));
      std::uniform_int_distribution<int64_t> jitter(0, backoff.count() / 2);
      wait = backoff + std::chrono::milliseconds(jitter(random));
      bool unreachable = polled.status().code() == StatusCode::kUnavailable ||
                         polled.status().code() == StatusCode::kDeadlineExceeded;
      SetState(unreachable ? "unreachable" : "degraded", polled.status().message());
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, wait, [this] { return stopping_; })) return;
  }
}

}  // namespace warden::edge
