// Fuzzes the edge's side of the sync protocol (docs/sync-protocol.md, section 6): a conversation of
// hub messages fed one by one to a SyncReceiver over a memory-only SyncApplier, as the WebSocket
// follower feeds them. A message that ends the session starts a new one over the same applier,
// as a reconnect does.
// Input: a flags byte (bit 0: the edge starts out holding examples/authzen-todo at revision 5;
// bit 1: the messages arrive together, so each but the last is handed over with more_waiting and
// deltas are applied in batches), then messages, one JSON text per line. A snapshot_end whose sha256 is "fuzz" gets the hash of
// the chunks since the last snapshot_begin, so mutated snapshot bodies reach the parser.
// Properties: nothing crashes, throws, hangs or leaks; the applier and the holder agree on the
// revision; it never goes backwards but by an acked snapshot; the edge acks only what it holds;
// heartbeat intervals stay within bounds the follower's timers can multiply; a message the
// relation-delta reader takes reads as the general path (JSON document, then OpsFromJson) reads it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/metrics/registry.h"
#include "common/protocol/delta.h"
#include "common/protocol/relation_delta.h"
#include "common/snapshot/folder_snapshot.h"
#include "common/snapshot/snapshot_holder.h"
#include "edge/sync_applier.h"
#include "edge/sync_receiver.h"

namespace {

using nlohmann::json;

std::shared_ptr<const warden::Snapshot>* base;

[[noreturn]] void Fail(const std::string& why) {
  std::fprintf(stderr, "%s\n", why.c_str());
  std::abort();
}

// Mirrors the receiver's snapshot hashing so a "fuzz" trailer can be given the right hash.
struct TrailerFixer {
  warden::protocol::Sha256Stream hash;

  // Returns the text to deliver: `line`, or the trailer rewritten with the computed hash.
  std::string Fix(std::string_view line, const json& message) {
    std::string type = message.contains("type") && message["type"].is_string() ? message["type"].get<std::string>() : "";
    if (type == "snapshot_begin") {
      hash.Reset();
    } else if (type == "snapshot_chunk" && message.contains("data") && message["data"].is_string()) {
      hash.Update(message["data"].get_ref<const std::string&>());
    } else if (type == "snapshot_end" && message.contains("sha256") && message["sha256"] == "fuzz") {
      json fixed = message;
      fixed["sha256"] = hash.HexDigest();
      return fixed.dump();
    }
    return std::string(line);
  }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  auto loaded = warden::LoadSnapshotFolder(std::string(WARDEN_SOURCE_DIR) + "/examples/authzen-todo", 5, "fuzz-store");
  if (!loaded.ok()) Fail("cannot load examples/authzen-todo: " + loaded.status().message());
  base = new std::shared_ptr<const warden::Snapshot>(std::move(*loaded));  // for every input; never freed
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  warden::metrics::Registry registry;
  warden::SnapshotHolder holder;
  if (data[0] & 1) holder.Publish(*base);
  warden::edge::SyncApplier applier(holder, nullptr, registry);
  auto receiver = std::make_unique<warden::edge::SyncReceiver>(applier);
  TrailerFixer fixer;
  bool together = (data[0] & 2) != 0;

  while (!rest.empty()) {
    size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);

    json message = json::parse(line, nullptr, false);
    {
      uint64_t fast_revision = 0;
      std::vector<warden::protocol::DeltaOp> fast_ops;
      if (warden::protocol::ParseRelationDelta(line, fast_revision, fast_ops)) {
        auto general = message.is_object() && message.contains("ops")
                           ? warden::protocol::OpsFromJson(message["ops"])
                           : warden::Result<std::vector<warden::protocol::DeltaOp>>(
                                 warden::Status::InvalidArgument("no ops"));
        bool same = message.is_object() && message.value("type", json()) == "delta" && general.ok() &&
                    message["revision"].is_number_unsigned() && message["revision"].get<uint64_t>() == fast_revision &&
                    warden::protocol::OpsToJson(*general) == warden::protocol::OpsToJson(fast_ops);
        if (!same) Fail("the relation-delta reader and the general path differ on: " + std::string(line));
      }
    }
    std::string text = message.is_object() ? fixer.Fix(line, message) : std::string(line);
    bool snapshot_end = message.is_object() && message.value("type", json()) == "snapshot_end";

    uint64_t before = applier.revision();
    warden::edge::SyncReceiver::Actions actions = receiver->Handle(text, together && !rest.empty());
    uint64_t after = applier.revision();

    if (after != holder.revision()) {
      Fail("the applier holds revision " + std::to_string(after) + ", the holder serves " +
           std::to_string(holder.revision()));
    }
    bool acked = false;
    for (const auto& sent : actions.send) {
      json answer = json::parse(sent, nullptr, false);
      if (!answer.is_object() || !answer.contains("revision") || !answer["revision"].is_number_unsigned()) {
        Fail("a malformed answer: " + sent);
      }
      if (answer["type"] == "ack") {
        acked = true;
        if (answer["revision"].get<uint64_t>() > after) {
          Fail("acked revision " + answer["revision"].dump() + " while holding " + std::to_string(after));
        }
      }
    }
    if (after < before && !(snapshot_end && acked)) {
      Fail("revision went back from " + std::to_string(before) + " to " + std::to_string(after) + " on: " + text);
    }
    if (actions.heartbeat && (actions.heartbeat->count() < 10 ||
                              actions.heartbeat->count() > warden::edge::SyncReceiver::kMaxHeartbeatMs)) {
      Fail("a heartbeat interval of " + std::to_string(actions.heartbeat->count()) + " ms");
    }
    if (actions.end) {
      if (!actions.ended || actions.ended->ok()) Fail("a session ended without a reason");
      receiver = std::make_unique<warden::edge::SyncReceiver>(applier);  // reconnect
      fixer.hash.Reset();
    }
  }
  return 0;
}
