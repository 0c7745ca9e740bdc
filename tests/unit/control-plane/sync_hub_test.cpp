// The sync hub driven message by message (SyncHub::Turn, the hub thread never started) over a real
// control plane on a temporary SQLite file.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http/request.h"
#include "common/http/websocket.h"
#include "common/metrics/registry.h"
#include "common/store/sqlite.h"
#include "control-plane/api_support.h"
#include "control-plane/control_plane.h"
#include "control-plane/sync_hub.h"

namespace fs = std::filesystem;
using namespace warden;
using namespace warden::control_plane;
using nlohmann::json;
using protocol::DeltaOp;
using Clock = std::chrono::steady_clock;

namespace {

// The server's side of the socket: keeps what the hub sends.
class RecordingChannel final : public http::WebSocketChannel {
 public:
  void Send(std::string text) override {
    std::lock_guard lock(mutex_);
    sent_.push_back(json::parse(text));
  }
  void Close(uint16_t, std::string) override {}
  size_t queued_bytes() const override { return 0; }
  const std::string& remote_address() const override { return address_; }
  std::vector<json> sent() {
    std::lock_guard lock(mutex_);
    return sent_;
  }

 private:
  std::mutex mutex_;
  std::vector<json> sent_;
  std::string address_ = "192.0.2.1:40000";
};

std::string_view LookupHeader(const void* message, std::string_view name) {
  if (name == "Authorization") return *static_cast<const std::string*>(message);
  return {};
}

const char* kManifest =
    "model:\n  version: 3\ntypes:\n  user: {}\n  document:\n    relations:\n      viewer: user\n";

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("warden-sync-hub-unit-" + RandomHex(6));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string db() const { return (path / "store.db").string(); }
};

// The change log's root page number and the page size.
std::pair<int64_t, int64_t> ChangeLogRoot(const std::string& path) {
  auto db = sqlite::Database::Open(path, false);
  REQUIRE(db.ok());
  auto stmt = db->Prepare("SELECT rootpage FROM sqlite_master WHERE name = 'change_log'");
  REQUIRE(stmt.ok());
  REQUIRE(*stmt->Step());
  int64_t root = stmt->ColumnInt(0);
  auto size = db->Prepare("PRAGMA page_size");
  REQUIRE(size.ok());
  REQUIRE(*size->Step());
  return {root, size->ColumnInt(0)};
}

}  // namespace

TEST_CASE("an edge behind a change log that cannot be read is sent a snapshot instead of waiting at its revision") {
  TempDir dir;
  uint64_t latest = 0;
  {
    metrics::Registry registry;
    auto cp = ControlPlane::Open(dir.db(), "", registry);
    REQUIRE(cp.ok());
    directory::ManifestSource manifest{directory::ManifestSource::Format::kYaml, kManifest, "manifest.yaml"};
    REQUIRE((*cp)->Write({DeltaOp::SetManifest(manifest)}, "test").ok());
    // Enough revisions that the change log spans pages under an interior root.
    for (int r = 0; r < 40; ++r) {
      std::vector<DeltaOp> ops;
      for (int i = 0; i < 20; ++i) {
        ops.push_back(DeltaOp::SetRelation(
            {"document", "doc-" + std::to_string(r) + "-" + std::to_string(i), "viewer", "user", "ann", ""}));
      }
      auto written = (*cp)->Write(std::move(ops), "test");
      REQUIRE(written.ok());
      latest = written->revision;
    }
  }
  metrics::Registry registry;
  auto cp = ControlPlane::Open(dir.db(), "", registry);  // sound at start
  REQUIRE(cp.ok());
  std::string key = "Bearer " + (*cp)->CreateKey("unit")->secret;

  // The damage comes while the control plane runs: the root page's header is overwritten in the
  // file, then a commit through another connection makes the store's connection drop its cached
  // pages and read the file again.
  auto [root, page_size] = ChangeLogRoot(dir.db());
  {
    FILE* file = std::fopen(dir.db().c_str(), "r+b");
    REQUIRE(file != nullptr);
    REQUIRE(std::fseek(file, static_cast<long>((root - 1) * page_size), SEEK_SET) == 0);
    const unsigned char garbage[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    REQUIRE(std::fwrite(garbage, 1, sizeof garbage, file) == sizeof garbage);
    std::fclose(file);
    auto other = sqlite::Database::Open(dir.db(), false);
    REQUIRE(other.ok());
    REQUIRE(other->Exec("PRAGMA busy_timeout=5000; INSERT INTO meta(key, value) VALUES ('unit_touch', '1')").ok());
  }
  REQUIRE_FALSE((*cp)->store().Changes(2, 10).ok());

  SyncHub hub(**cp, HubOptions{}, registry);
  http::Request upgrade(http::Method::kGet, "/v1/sync", "", &key, &LookupHeader);
  http::UpgradeDecision decision = hub.Upgrade(upgrade);
  REQUIRE(decision.session);
  auto channel = std::make_shared<RecordingChannel>();
  decision.session->OnOpen(channel);
  const auto never = Clock::time_point::max();
  hub.Turn(never);
  decision.session->OnMessage(json{{"type", "hello"},
                                   {"protocol_versions", {1}},
                                   {"build", "unit"},
                                   {"feature_level", 1},
                                   {"instance_id", "edge-behind"},
                                   {"store_id", (*cp)->store_id()},
                                   {"revision", 2}}
                                  .dump());
  hub.Turn(never);
  hub.Turn(never);

  std::vector<std::string> types;
  uint64_t snapshot_revision = 0;
  for (const auto& message : channel->sent()) {
    types.push_back(message["type"].get<std::string>());
    if (types.back() == "snapshot_end") snapshot_revision = message["revision"].get<uint64_t>();
  }
  REQUIRE(!types.empty());
  CHECK(types.front() == "welcome");
  CHECK(std::find(types.begin(), types.end(), "snapshot_begin") != types.end());
  CHECK(snapshot_revision == latest);
  decision.session->OnClose();
  hub.Turn(never);
}
