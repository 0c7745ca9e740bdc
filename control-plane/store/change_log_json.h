// The change log's text form of one revision's ops: the JSON array OpsToJson produces
// (common/protocol/delta.h), written straight to text. Relation ops, which bulk writes are made
// of, skip the intermediate JSON tree; a bulk import's log entry is written several times faster.
#pragma once

#include <string>
#include <vector>

#include "common/protocol/delta.h"

namespace warden::control_plane {

// Equal, as parsed JSON, to protocol::OpsToJson(ops).dump().
std::string OpsToJsonText(const std::vector<protocol::DeltaOp>& ops);

}  // namespace warden::control_plane
