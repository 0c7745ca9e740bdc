// Snapshot: everything an edge decides with, at one revision of one store.
//
// A snapshot is immutable once built. The edge holds the current one in a SnapshotHolder; a
// reload (standalone mode) or a sync delta builds the next one beside it and publishes it, and
// readers that started on the old one finish on it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/directory/checker.h"
#include "common/directory/snapshot.h"
#include "common/policy/policy_set.h"
#include "common/policy/source.h"
#include "common/util/status.h"

namespace warden {

struct Snapshot {
  uint64_t revision = 0;
  std::string store_id;
  // Never null; an empty set when the store holds no policy.
  std::shared_ptr<const policy::PolicySet> policies;
  // The policy files the set was compiled from, sorted by path (kept for the replica and for sync;
  // shared between revisions that do not change policies). Never null.
  std::shared_ptr<const std::vector<policy::SourceDocument>> policy_sources;
  // Never null; the built-in model and no data when the store holds none.
  std::shared_ptr<const directory::DirectorySnapshot> directory;
  std::chrono::system_clock::time_point created_at;
  // The limits `policies` were compiled under; a revision derived from this one recompiles with them.
  policy::ExpressionLimits expression_limits;
};

// Compiles `policy_sources` and pairs the result with `directory` as one snapshot. On failure
// returns InvalidArgument listing every policy error ("file:line:column: reason").
Result<std::shared_ptr<const Snapshot>> MakeSnapshot(std::vector<policy::SourceDocument> policy_sources,
                                                     std::shared_ptr<const directory::DirectorySnapshot> directory,
                                                     uint64_t revision, std::string store_id,
                                                     const policy::ExpressionLimits& expression_limits = {});

}  // namespace warden
