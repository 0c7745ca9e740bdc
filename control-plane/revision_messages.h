// RevisionMessages: the sync hub's recent revisions, already encoded as the messages an edge is
// sent (docs/sync-protocol.md, section 4: one `delta`, or rev_begin/rev_part.../rev_commit above
// 1 MiB of ops).
//
// Every edge that is current wants the same revision moments after it commits. Reading it from
// the change log and encoding it once per edge made the hub's fan-out cost grow with the number
// of edges (a statement prepared, a row read and a message built per edge per revision); with
// this, the first session to need a revision reads and encodes it and every other one shares the
// text. Only the hub thread uses it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/util/status.h"
#include "control-plane/store/store.h"

namespace warden::control_plane {

// One revision's messages, in the order they are sent.
struct EncodedRevision {
  uint64_t revision = 0;
  size_t ops_bytes = 0;  // the size of its ops' JSON: what counts against an edge's byte window
  std::vector<std::string> messages;
};

// The messages for one change-log entry.
EncodedRevision EncodeRevision(const ChangeEntry& change);

class RevisionMessages {
 public:
  // Keeps at most `max_revisions` revisions and about `max_bytes` of messages (the latest ones:
  // an edge far behind reads the change log as before, without evicting what current edges need).
  RevisionMessages(size_t max_revisions, size_t max_bytes) : max_revisions_(max_revisions), max_bytes_(max_bytes) {}

  // The revisions after `after`, oldest first, at most `limit` (fewer when the change log holds
  // fewer). As Store::Changes: OutOfRange when revision after+1 has been compacted out of the
  // change log, whether or not it is held here, so an edge that far behind still gets a snapshot.
  Result<std::vector<std::shared_ptr<const EncodedRevision>>> After(Store& store, uint64_t after, size_t limit);

  size_t held() const { return held_.size(); }

 private:
  void Keep(std::shared_ptr<const EncodedRevision> encoded);

  size_t max_revisions_;
  size_t max_bytes_;
  std::deque<std::shared_ptr<const EncodedRevision>> held_;  // consecutive revisions, oldest first
  size_t held_bytes_ = 0;
};

}  // namespace warden::control_plane
