// Applying one revision's delta ops to a snapshot, producing the next snapshot.
#pragma once

#include <memory>
#include <vector>

#include "common/protocol/delta.h"
#include "common/snapshot/snapshot.h"

namespace warden::protocol {

// The snapshot at `revision` that results from applying `ops` to `base`; `base` is unchanged. The
// directory part costs O(k log n) for k changes; the policy set is recompiled only when the ops
// touch policies (else shared with `base`). All or nothing: on error (a relation the manifest
// forbids, a policy that does not compile) the Status names the op and the reason.
// REQUIRES: revision > base.revision.
Result<std::shared_ptr<const Snapshot>> ApplyRevision(const Snapshot& base, uint64_t revision,
                                                      const std::vector<DeltaOp>& ops);

}  // namespace warden::protocol
