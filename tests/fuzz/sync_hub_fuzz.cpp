// Fuzzes the control plane's side of the sync protocol (docs/sync-protocol.md, section 5): one
// edge session per input, opened through SyncHub::Upgrade with a real edge key, fed the input's
// messages through the WebSocketSession the server would drive, with the hub turned by hand after
// each (SyncHub::Turn; the hub thread is never started, so every input runs alike). The control
// plane is a real one over a temporary SQLite file holding examples/authzen-todo as several
// revisions, so a hello can resume from the change log or get a snapshot; decision_logs batches go
// to a real DecisionIngest.
// Input: messages, one per line. A line "tick" makes the turn a heartbeat turn instead; a
// "store_id":"current" names the control plane's store (its id is random).
// Properties: nothing crashes, throws, hangs or leaks; everything the hub sends is a JSON object
// with a string "type"; deltas go out in consecutive revisions.
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/http/request.h"
#include "common/http/websocket.h"
#include "common/metrics/registry.h"
#include "common/protocol/delta.h"
#include "common/protocol/snapshot_format.h"
#include "common/snapshot/folder_snapshot.h"
#include "control-plane/control_plane.h"
#include "control-plane/decision_api.h"
#include "control-plane/decision_store.h"
#include "control-plane/sync_hub.h"

namespace {

namespace cp = warden::control_plane;
namespace http = warden::http;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Fail(const std::string& why) {
  std::fprintf(stderr, "%s\n", why.c_str());
  std::abort();
}

// The server's side of the socket, reduced to checking what the hub sends.
class RecordingChannel final : public http::WebSocketChannel {
 public:
  void Send(std::string text) override {
    if (closed_) return;  // as the real channel: ignored once closing
    json message = json::parse(text, nullptr, false);
    if (!message.is_object() || !message.contains("type") || !message["type"].is_string()) {
      Fail("the hub sent a message without a type: " + text);
    }
    const std::string& type = message["type"].get_ref<const std::string&>();
    if (type == "delta" || type == "rev_begin") {
      uint64_t revision = message.value("revision", uint64_t{0});
      if (last_revision_ && revision != *last_revision_ + 1) {
        Fail("revision " + std::to_string(revision) + " sent after " + std::to_string(*last_revision_));
      }
      last_revision_ = revision;
    } else if (type == "snapshot_end") {
      last_revision_ = message.value("revision", uint64_t{0});
    }
  }
  void Close(uint16_t, std::string) override { closed_ = true; }
  size_t queued_bytes() const override { return 0; }  // the edge reads as fast as the hub sends
  const std::string& remote_address() const override { return address_; }

 private:
  bool closed_ = false;
  std::optional<uint64_t> last_revision_;
  std::string address_ = "192.0.2.1:40000";
};

struct Fixture {
  std::filesystem::path dir;
  warden::metrics::Registry registry;
  std::unique_ptr<cp::ControlPlane> control_plane;
  std::unique_ptr<cp::DecisionStore> decisions;
  std::unique_ptr<cp::DecisionIngest> ingest;
  std::unique_ptr<cp::SyncHub> hub;
  std::string key;
};
Fixture* fixture;

template <typename T>
T Must(warden::Result<T> result, const char* what) {
  if (!result.ok()) Fail(std::string(what) + ": " + result.status().message());
  return std::move(*result);
}

// examples/authzen-todo as revisions: the policies and manifest, the objects, then the relations a
// few at a time, so hellos at different revisions resume from different places in the change log.
void Populate(cp::ControlPlane& control_plane) {
  auto loaded = Must(warden::LoadSnapshotFolder(std::string(WARDEN_SOURCE_DIR) + "/examples/authzen-todo", 1, "x"),
                     "load examples/authzen-todo");
  auto serialized = warden::protocol::SerializeSnapshot(*loaded);
  std::vector<std::vector<warden::protocol::DeltaOp>> revisions(2);
  std::string_view body = serialized->body;
  while (!body.empty()) {
    size_t end = body.find('\n');
    auto op = Must(warden::protocol::OpFromJson(json::parse(body.substr(0, end))), "snapshot line");
    body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
    using Kind = warden::protocol::DeltaOp::Kind;
    if (op.kind == Kind::kPolicySet || op.kind == Kind::kManifestSet) {
      revisions[0].push_back(std::move(op));
    } else if (op.kind == Kind::kObjectSet) {
      revisions[1].push_back(std::move(op));
    } else {
      if (revisions.back().size() >= 4 || revisions.size() == 2) revisions.emplace_back();
      revisions.back().push_back(std::move(op));
    }
  }
  for (auto& ops : revisions) Must(control_plane.Write(std::move(ops), "fuzz"), "write a revision");
}

constexpr std::string_view kCurrentStore = "\"store_id\":\"current\"";

std::string_view LookupHeader(const void* message, std::string_view name) {
  if (name == "Authorization") return *static_cast<const std::string*>(message);
  return {};
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  fixture = new Fixture;  // serves every input; never freed
  // In memory where there is a tmpfs: the decision store syncs every batch to disk.
  std::filesystem::path tmp = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
  fixture->dir = tmp / ("warden-fuzz-sync-hub-" + std::to_string(::getpid()));
  std::filesystem::remove_all(fixture->dir);
  std::filesystem::create_directories(fixture->dir);
  std::atexit([] { std::filesystem::remove_all(fixture->dir); });
  fixture->control_plane =
      Must(cp::ControlPlane::Open((fixture->dir / "cp.db").string(), "", fixture->registry), "open the control plane");
  Populate(*fixture->control_plane);
  fixture->key = "Bearer " + Must(fixture->control_plane->CreateKey("fuzz"), "create an edge key").secret;
  fixture->decisions = Must(cp::DecisionStore::Open((fixture->dir / "decisions.db").string()), "open decisions");
  cp::DecisionLogLimits limits;
  limits.max_batch_entries = 100;
  limits.max_rows = 10'000;  // the store stays small however long the fuzzer runs
  fixture->ingest = std::make_unique<cp::DecisionIngest>(*fixture->decisions, limits, fixture->registry);
  cp::HubOptions options;
  options.window_revisions = 4;  // small, so acks matter
  fixture->hub = std::make_unique<cp::SyncHub>(*fixture->control_plane, options, fixture->registry);
  cp::DecisionIngest* ingest = fixture->ingest.get();
  fixture->hub->SetDecisionSink(
      [ingest](const std::string& key_id, const json& batch) { return ingest->Ingest(key_id, batch); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cp::SyncHub& hub = *fixture->hub;
  const auto never = Clock::time_point::max();
  http::Request upgrade(http::Method::kGet, "/v1/sync", "", &fixture->key, &LookupHeader);
  http::UpgradeDecision decision = hub.Upgrade(upgrade);
  if (!decision.session) Fail("the hub refused a live key: " + decision.refusal.body);
  auto channel = std::make_shared<RecordingChannel>();
  decision.session->OnOpen(channel);
  hub.Turn(never);

  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    if (line == "tick") {
      hub.Turn(Clock::time_point::min());
      continue;
    }
    std::string message(line);
    // The store's id is random; seeds name it "current" to resume from the change log.
    if (size_t at = message.find(kCurrentStore); at != std::string::npos) {
      message.replace(at, kCurrentStore.size(), "\"store_id\":\"" + fixture->control_plane->store_id() + "\"");
    }
    decision.session->OnMessage(std::move(message));
    hub.Turn(never);
  }
  decision.session->OnClose();
  hub.Turn(never);  // retires the session
  if (!hub.LiveEdges().empty()) Fail("a closed session is still live");
  return 0;
}
