#include "edge/pull_follower.h"

#include <random>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/http/client.h"
#include "common/http/gzip.h"

namespace warden::edge {

using nlohmann::json;

namespace {

constexpr size_t kMaxSnapshotBytes = size_t{4} << 30;

std::string HeaderOf(const http::ClientResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return value;
    }
  }
  return "";
}

Result<http::ClientResponse> Get(const FollowOptions& options, const std::string& path,
                                 std::chrono::milliseconds timeout, http::FetchCanceller& canceller) {
  http::ClientRequest request;
  request.canceller = &canceller;
  request.url = options.control_plane_url + path;
  request.headers.emplace_back("Authorization", "Bearer " + options.key);
  request.headers.emplace_back("Accept-Encoding", "gzip");
  request.timeout = timeout;
  request.tls = options.tls;
  auto response = http::Fetch(request);
  if (!response.ok()) return response.status();
  if (response->status == 401 || response->status == 403) {
    return Status::PermissionDenied("the control plane refused the edge key (HTTP " +
                                    std::to_string(response->status) + ")");
  }
  if (HeaderOf(*response, "Content-Encoding") == "gzip") {
    auto plain = http::Gunzip(response->body, kMaxSnapshotBytes);
    if (!plain.ok()) return Status::Unavailable("GET " + path + ": " + plain.status().message());
    response->body = std::move(*plain);
  }
  return response;
}

}  // namespace

PullFollower::PullFollower(FollowOptions options, SyncApplier& applier)
    : options_(std::move(options)), applier_(applier) {}

PullFollower::~PullFollower() { Stop(); }

void PullFollower::Start() {
  applier_.SetMode("pull");
  thread_ = std::thread([this] { Run(); });
}

void PullFollower::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  canceller_.Cancel();
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status PullFollower::FetchSnapshot() {
  auto response = Get(options_, "/v1/snapshot", std::chrono::minutes(5), canceller_);
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return Status::Unavailable("GET /v1/snapshot answered HTTP " + std::to_string(response->status));
  }
  std::string store_id = HeaderOf(*response, "Warden-Store-Id");
  std::string revision_text = HeaderOf(*response, "Warden-Revision");
  std::string sha256 = HeaderOf(*response, "Warden-Snapshot-Sha256");
  if (store_id.empty() || revision_text.empty() || sha256.empty()) {
    return Status::Unavailable("GET /v1/snapshot lacks Warden-Store-Id, Warden-Revision or Warden-Snapshot-Sha256");
  }
  uint64_t revision = std::strtoull(revision_text.c_str(), nullptr, 10);
  applier_.SetHubRevision(revision);
  if (revision == 0) return Status::Ok();  // an empty store: nothing to serve yet
  return applier_.ApplySnapshot(std::move(response->body), sha256, revision, store_id);
}

Result<size_t> PullFollower::Round(std::chrono::milliseconds long_poll) {
  uint64_t held = applier_.revision();
  if (held == 0) {
    WARDEN_RETURN_IF_ERROR(FetchSnapshot());
    held = applier_.revision();
    if (held == 0) return size_t{0};
  }
  std::string path = "/v1/changes?since=" + std::to_string(held) + "&limit=" + std::to_string(options_.batch);
  if (long_poll.count() > 0) path += "&wait=" + std::to_string(long_poll.count()) + "ms";
  auto response = Get(options_, path, long_poll + std::chrono::seconds(10), canceller_);
  if (!response.ok()) return response.status();
  if (response->status == 410) {
    spdlog::info("sync (pull): the control plane cannot send revision {} as a change ({}); fetching a snapshot",
                 held + 1, response->body.substr(0, 300));
    WARDEN_RETURN_IF_ERROR(FetchSnapshot());
    return size_t{1};
  }
  if (response->status != 200) {
    return Status::Unavailable("GET /v1/changes answered HTTP " + std::to_string(response->status) + ": " +
                               response->body.substr(0, 200));
  }
  json body = json::parse(response->body, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("changes") || !body["changes"].is_array()) {
    return Status::Unavailable("GET /v1/changes answered something that is not a change list");
  }
  std::string store_id = body.value("store_id", std::string());
  uint64_t hub_revision = body.value("revision", uint64_t{0});
  applier_.SetHubRevision(hub_revision);
  if (store_id != applier_.store_id() || hub_revision < held) {
    spdlog::warn("sync (pull): the control plane serves store {} at revision {}, this edge holds {} at {}; "
                 "fetching a snapshot", store_id, hub_revision, applier_.store_id(), held);
    WARDEN_RETURN_IF_ERROR(FetchSnapshot());
    return size_t{1};
  }
  // The page's revisions are applied, written and published as one step.
  std::vector<DeltaRevision> changes;
  Status unreadable;
  for (const auto& change : body["changes"]) {
    uint64_t revision = change.value("revision", uint64_t{0});
    auto ops = protocol::OpsFromJson(change.value("ops", json::array()));
    if (!ops.ok()) {
      unreadable = ops.status().WithPrefix("revision " + std::to_string(revision));
      break;
    }
    changes.push_back({revision, std::move(*ops), {}});
  }
  SyncApplier::Applied applied = applier_.ApplyDeltas(changes);
  WARDEN_RETURN_IF_ERROR(applied.status);
  WARDEN_RETURN_IF_ERROR(unreadable);
  return applied.held;
}

void PullFollower::Run() {
  std::mt19937 random(std::random_device{}());
  std::chrono::milliseconds backoff{0};
  while (true) {
    auto polled = Round(options_.long_poll);
    applier_.FoldReplicaIfDue();  // after the round's revisions are published
    std::chrono::milliseconds wait = options_.poll_interval;
    if (polled.ok()) {
      backoff = std::chrono::milliseconds(0);
      applier_.SetState("following", "");
      if (*polled > 0) wait = std::chrono::milliseconds(0);  // more may be waiting
    } else {
      // Exponential backoff with jitter, so a fleet of edges does not return in step.
      backoff = std::min(std::chrono::milliseconds(10'000), std::max(options_.poll_interval, backoff * 2));
      std::uniform_int_distribution<int64_t> jitter(0, backoff.count() / 2);
      wait = backoff + std::chrono::milliseconds(jitter(random));
      bool unreachable = polled.status().code() == StatusCode::kUnavailable ||
                         polled.status().code() == StatusCode::kDeadlineExceeded;
      applier_.SetState(unreachable ? "unreachable" : "degraded", polled.status().message());
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, wait, [this] { return stopping_; })) return;
  }
}

}  // namespace warden::edge
