// Reading the commonest hub message, a `delta` whose ops all set or delete relations, straight into
// delta ops without building a JSON document first.
//
// Each edge reads every revision: parsing the message into an nlohmann document and then into ops
// cost about 25k instructions and some thirty allocations per one-relation delta, a third of what
// an edge spent following a revision. This reader takes only what it can be sure of and answers
// false for anything else (another message type, another op, an escape or a byte outside
// printable ASCII in a string, a number that is not a plain unsigned integer, a field of the
// wrong type, an empty required field, a repeated or unexpected key, malformed JSON): the caller
// then takes the general path (JSON document, then protocol::OpsFromJson), which also words any
// error. Whatever it accepts, the general path reads the same (unit test; fuzz_sync_edge checks
// every input).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/protocol/delta.h"

namespace warden::protocol {

// On true, `revision` and `ops` hold the message's; on false they are unspecified.
bool ParseRelationDelta(std::string_view text, uint64_t& revision, std::vector<DeltaOp>& ops);

// The same for a `rev_part` (one slice of a revision streamed in parts; an import's are all
// relations): also its `index`, and `ops_text`, the text of its ops array as it stands in `text`,
// so the edge can journal the revision without writing its ops out again.
bool ParseRelationPart(std::string_view text, uint64_t& revision, uint64_t& index, std::vector<DeltaOp>& ops,
                       std::string_view& ops_text);

}  // namespace warden::protocol
