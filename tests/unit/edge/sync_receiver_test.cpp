// The edge's side of the sync protocol, message by message: deltas that arrive together are
// applied, written and published as one step, and each is still acked (or the first that fails
// is nacked as it would have been alone).
#include "edge/sync_receiver.h"

#include <doctest/doctest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/directory/checker.h"
#include "common/metrics/registry.h"
#include "common/snapshot/snapshot_holder.h"
#include "edge/replica.h"
#include "edge/sync_applier.h"

using namespace warden;
using warden::edge::Replica;
using warden::edge::SyncApplier;
using warden::edge::SyncReceiver;
using warden::protocol::DeltaOp;
using nlohmann::json;

namespace {

const char* kManifest = R"(model:
  version: 3
types:
  user: {}
  document:
    relations:
      viewer: user
    permissions:
      can_view: viewer
)";

std::shared_ptr<const Snapshot> Base(uint64_t revision) {
  auto builder = directory::DirectorySnapshot::Builder::Create(
      directory::ManifestSource{directory::ManifestSource::Format::kYaml, kManifest, "manifest.yaml"});
  REQUIRE(builder.ok());
  auto made = MakeSnapshot({}, builder->Build(revision), revision, "store-1");
  REQUIRE(made.ok());
  return *made;
}

std::string Delta(uint64_t revision, const std::string& document, const std::string& relation = "viewer") {
  json ops = json::array({protocol::OpToJson(DeltaOp::SetRelation({"document", document, relation, "user", "ann", ""}))});
  return json{{"type", "delta"}, {"revision", revision}, {"author", "t"}, {"time", "2026-01-01T00:00:00Z"}, {"ops", ops}}
      .dump();
}

bool CanView(const SnapshotHolder& holder, const std::string& document) {
  auto snapshot = holder.Current();
  directory::CheckRequest check{"document", document, "can_view", "user", "ann", "", false};
  auto result = directory::Check(*snapshot->directory, check);
  REQUIRE(result.ok());
  return result->allowed;
}

std::vector<std::string> Answers(const SyncReceiver::Actions& actions) {
  std::vector<std::string> out;
  for (const auto& text : actions.send) {
    json answer = json::parse(text);
    out.push_back(answer["type"].get<std::string>() + " " + std::to_string(answer["revision"].get<uint64_t>()));
  }
  return out;
}

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("warden-sync-receiver-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return path.string();
}

}  // namespace

TEST_CASE("a delta handed over alone is applied and acked at once") {
  metrics::Registry registry;
  SnapshotHolder holder;
  holder.Publish(Base(5));
  SyncApplier applier(holder, nullptr, registry);
  SyncReceiver receiver(applier);
  auto actions = receiver.Handle(Delta(6, "d1"));
  CHECK(Answers(actions) == std::vector<std::string>{"ack 6"});
  CHECK(holder.revision() == 6);
  CHECK(CanView(holder, "d1"));
}

TEST_CASE("deltas that arrive together are published as one step and each is acked") {
  metrics::Registry registry;
  SnapshotHolder holder;
  holder.Publish(Base(5));
  std::string path = TempPath("batch.db");
  auto replica = Replica::Open(path);
  REQUIRE(replica.ok());
  REQUIRE((*replica)->ReplaceWith(*Base(5)).ok());
  SyncApplier applier(holder, replica->get(), registry);
  SyncReceiver receiver(applier);

  CHECK(receiver.Handle(Delta(6, "d1"), /*more_waiting=*/true).send.empty());
  CHECK(receiver.Handle(Delta(6, "d1"), true).send.empty());  // a repeat within the batch is held already
  CHECK(receiver.Handle(Delta(7, "d2"), true).send.empty());
  CHECK(holder.revision() == 5);  // nothing is visible (or acked) before the step
  auto actions = receiver.Handle(Delta(8, "d3"), false);
  CHECK(Answers(actions) == std::vector<std::string>{"ack 6", "ack 6", "ack 7", "ack 8"});
  CHECK(holder.revision() == 8);
  CHECK(CanView(holder, "d1"));
  CHECK(CanView(holder, "d3"));
  CHECK((*replica)->revision() == 8);
  replica->reset();
  auto reopened = Replica::Open(path);
  REQUIRE(reopened.ok());
  auto loaded = (*reopened)->Load();
  REQUIRE(loaded.ok());
  CHECK((*loaded)->revision == 8);
  CHECK((*loaded)->directory->relation_count() == 3);
}

TEST_CASE("any other message applies the held-back deltas first") {
  metrics::Registry registry;
  SnapshotHolder holder;
  holder.Publish(Base(5));
  SyncApplier applier(holder, nullptr, registry);
  SyncReceiver receiver(applier);
  CHECK(receiver.Handle(Delta(6, "d1"), true).send.empty());
  auto actions = receiver.Handle(R"({"type":"heartbeat","revision":9})", true);
  CHECK(Answers(actions) == std::vector<std::string>{"ack 6"});
  CHECK(holder.revision() == 6);
  CHECK(receiver.Handle(Delta(7, "d2"), true).send.empty());
  CHECK(Answers(receiver.Flush()) == std::vector<std::string>{"ack 7"});
  CHECK(receiver.Flush().send.empty());
}

TEST_CASE("a batch stops at the first revision that cannot be applied, which is nacked as it would be alone") {
  metrics::Registry registry;
  SnapshotHolder holder;
  holder.Publish(Base(5));
  SyncApplier applier(holder, nullptr, registry);
  SyncReceiver receiver(applier);
  receiver.Handle(Delta(6, "d1"), true);
  receiver.Handle(Delta(7, "d2", "owner"), true);  // the manifest has no `owner`
  auto actions = receiver.Handle(Delta(8, "d3"), false);
  CHECK(Answers(actions) == std::vector<std::string>{"ack 6", "nack 7"});
  CHECK(json::parse(actions.send[1])["code"] == "cannot_apply");
  CHECK(holder.revision() == 6);
  CHECK(receiver.halted_since().has_value());
  CHECK_FALSE(actions.end);
  // Halted: nothing after the refused revision is applied.
  CHECK(receiver.Handle(Delta(7, "d2")).send.empty());
  CHECK(holder.revision() == 6);
}

TEST_CASE("a gap inside a batch acks what came before it and ends the session to resync") {
  metrics::Registry registry;
  SnapshotHolder holder;
  holder.Publish(Base(5));
  SyncApplier applier(holder, nullptr, registry);
  SyncReceiver receiver(applier);
  receiver.Handle(Delta(6, "d1"), true);
  auto actions = receiver.Handle(Delta(9, "d2"), false);
  CHECK(Answers(actions) == std::vector<std::string>{"ack 6", "nack 9"});
  CHECK(json::parse(actions.send[1])["code"] == "gap");
  CHECK(actions.end);
  CHECK(holder.revision() == 6);
}

TEST_CASE("a batch is applied once it holds kMaxBatchRevisions deltas, however many more wait") {
  metrics::Registry registry;
  SnapshotHolder holder;
  holder.Publish(Base(5));
  SyncApplier applier(holder, nullptr, registry);
  SyncReceiver receiver(applier);
  size_t acks = 0;
  for (uint64_t revision = 6; revision < 6 + SyncReceiver::kMaxBatchRevisions; ++revision) {
    acks += receiver.Handle(Delta(revision, std::string("d").append(std::to_string(revision))), true).send.size();
  }
  CHECK(acks == SyncReceiver::kMaxBatchRevisions);
  CHECK(holder.revision() == 5 + SyncReceiver::kMaxBatchRevisions);
}

namespace {

std::string RelationOps(uint64_t revision, int from, int to) {
  json ops = json::array();
  for (int i = from; i < to; ++i) {
    ops.push_back(protocol::OpToJson(
        DeltaOp::SetRelation({"document", "p" + std::to_string(revision) + "-" + std::to_string(i), "viewer", "user", "ann", ""})));
  }
  return ops.dump();
}

// A rev_part as the hub writes it (ops last).
std::string Part(uint64_t revision, size_t index, const std::string& ops) {
  return R"({"type":"rev_part","revision":)" + std::to_string(revision) + R"(,"index":)" + std::to_string(index) +
         R"(,"ops":)" + ops + "}";
}

}  // namespace

TEST_CASE("a revision in parts counts in the lag while it arrives, and is journaled and reloaded whole") {
  metrics::Registry registry;
  SnapshotHolder holder;
  holder.Publish(Base(5));
  std::string path = TempPath("parts.db");
  std::filesystem::remove(path + ".deltas");
  auto replica = Replica::Open(path);
  REQUIRE(replica.ok());
  REQUIRE((*replica)->ReplaceWith(*Base(5)).ok());
  SyncApplier applier(holder, replica->get(), registry);
  SyncReceiver receiver(applier);
  receiver.Handle(json{{"type", "welcome"}, {"revision", 5}, {"heartbeat_ms", 10000}}.dump());

  auto begin = receiver.Handle(json{{"type", "rev_begin"}, {"revision", 6}, {"parts", 2}}.dump());
  CHECK(begin.send.empty());
  // The hub holds revision 6 now: the edge owns up to it before the revision is whole.
  CHECK(applier.StatusJson()["hub_revision"] == 6);
  CHECK(applier.StatusJson()["lag"] == 1);
  CHECK(receiver.Handle(Part(6, 0, RelationOps(6, 0, 3))).send.empty());
  CHECK(receiver.Handle(Part(6, 1, RelationOps(6, 3, 5))).send.empty());
  CHECK(holder.revision() == 5);
  auto commit = receiver.Handle(json{{"type", "rev_commit"}, {"revision", 6}}.dump());
  CHECK(Answers(commit) == std::vector<std::string>{"ack 6"});
  CHECK(CanView(holder, "p6-0"));
  CHECK(CanView(holder, "p6-4"));
  CHECK(applier.StatusJson()["lag"] == 0);

  // A part the fast reader does not take (an object) goes the general way, and the journal writes
  // the revision's ops out itself.
  receiver.Handle(json{{"type", "rev_begin"}, {"revision", 7}, {"parts", 2}}.dump());
  receiver.Handle(Part(7, 0, RelationOps(7, 0, 2)));
  json object_ops = json::array({protocol::OpToJson(DeltaOp::SetObject({"user", "ann", "Ann", json::object()}))});
  receiver.Handle(Part(7, 1, object_ops.dump()));
  CHECK(Answers(receiver.Handle(json{{"type", "rev_commit"}, {"revision", 7}}.dump())) ==
        std::vector<std::string>{"ack 7"});

  replica->reset();
  auto reopened = Replica::Open(path);
  REQUIRE(reopened.ok());
  auto loaded = (*reopened)->Load();
  REQUIRE(loaded.ok());
  CHECK((*loaded)->revision == 7);
  CHECK((*loaded)->directory->relation_count() == 7);
  CHECK((*loaded)->directory->GetObject("user", "ann").ok());
}
