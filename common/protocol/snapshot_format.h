// The snapshot format (docs/sync-protocol.md, section 2): a store's whole content at one revision
// as JSON lines of `.set` ops, in a fixed order, with the SHA-256 of those bytes as its hash.
//
// The hub serializes its current snapshot once per revision and streams the same bytes to every
// edge that needs them (in WebSocket chunks, or as the body of GET /v1/snapshot); an edge parses
// them back only after the hash checked.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/snapshot/snapshot.h"
#include "common/util/status.h"

namespace warden::protocol {

inline constexpr std::string_view kSnapshotFormat = "warden-snapshot-1";

struct SnapshotCounts {
  size_t policies = 0;
  size_t manifest = 0;
  size_t objects = 0;
  size_t relations = 0;
  size_t bytes = 0;
  nlohmann::json ToJson() const;
};

// One serialized snapshot; immutable once made, shared by every stream that sends it.
struct SerializedSnapshot {
  std::string store_id;
  uint64_t revision = 0;
  std::string body;    // the JSON lines
  std::string sha256;  // lower-case hex SHA-256 of `body`
  SnapshotCounts counts;
};

std::shared_ptr<const SerializedSnapshot> SerializeSnapshot(const Snapshot& snapshot);

// Builds a snapshot from its body as it arrives, piece by piece (each piece whole lines, as the
// hub's chunks are), so the receiver never holds the whole text. Errors stick: after one, Feed and
// Finish return it.
class SnapshotParser {
 public:
  // Policies are compiled under `expression_limits`, which the snapshot then carries.
  explicit SnapshotParser(const policy::ExpressionLimits& expression_limits = {});
  ~SnapshotParser();
  SnapshotParser(const SnapshotParser&) = delete;
  SnapshotParser& operator=(const SnapshotParser&) = delete;
  Status Feed(std::string_view lines);
  Result<std::shared_ptr<const Snapshot>> Finish(uint64_t revision, std::string store_id);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Builds the snapshot `body` describes, at `revision` of `store_id`. InvalidArgument naming the
// line for a line that is not a `.set` op, an op out of the format's order, or content the
// engines refuse (a policy that does not compile, a relation the manifest forbids).
// The caller checks the hash first.
Result<std::shared_ptr<const Snapshot>> ParseSnapshot(std::string_view body, uint64_t revision,
                                                      std::string store_id,
                                                      const policy::ExpressionLimits& expression_limits = {});

}  // namespace warden::protocol
