#include "common/snapshot/snapshot_holder.h"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "common/directory/snapshot.h"

using namespace warden;

namespace {

std::shared_ptr<const Snapshot> Empty(uint64_t revision) {
  auto builder = directory::DirectorySnapshot::Builder::Create(
      directory::ManifestSource{directory::ManifestSource::Format::kYaml, "model:\n  version: 3\ntypes:\n  user: {}\n", "manifest.yaml"});
  REQUIRE(builder.ok());
  auto made = MakeSnapshot({}, builder->Build(revision), revision, "store-1");
  REQUIRE(made.ok());
  return *made;
}

}  // namespace

TEST_CASE("each publish makes its snapshot current and calls the listener, which sees it") {
  SnapshotHolder holder;
  CHECK(holder.revision() == 0);
  CHECK(holder.Acquire() == nullptr);
  std::vector<uint64_t> seen;
  holder.SetPublishListener([&] { seen.push_back(holder.revision()); });
  holder.Publish(Empty(3));
  holder.Publish(Empty(5));
  CHECK(seen == std::vector<uint64_t>{3, 5});
  REQUIRE(holder.Acquire() != nullptr);
  CHECK(holder.Acquire()->revision == 5);
  CHECK(holder.Current()->revision == 5);
}

TEST_CASE("a cleared listener is not called again") {
  SnapshotHolder holder;
  int calls = 0;
  holder.SetPublishListener([&] { ++calls; });
  holder.Publish(Empty(1));
  holder.SetPublishListener(nullptr);
  holder.Publish(Empty(2));
  CHECK(calls == 1);
  CHECK(holder.revision() == 2);
}

TEST_CASE("WaitForRevision returns once the revision is published, and false at its timeout") {
  SnapshotHolder holder;
  holder.Publish(Empty(1));
  CHECK_FALSE(holder.WaitForRevision(2, std::chrono::milliseconds(20)));
  std::thread publisher([&] { holder.Publish(Empty(2)); });
  CHECK(holder.WaitForRevision(2, std::chrono::seconds(30)));
  publisher.join();
}
