// Reading a decision-log batch ({"instance_id", "dropped", "damaged", "entries": [...]}) straight from its
// text, for POST /v1/decision-logs.
//
// Building a JSON tree of a 1,000-entry batch and writing each entry back out as text cost more
// than storing it. This reader walks the text once: it checks it is well-formed JSON as nlohmann
// would (grammar, UTF-8, escapes, number range, nesting), takes the fields the store indexes, and
// keeps each entry's own text as its stored body. It takes only what it is sure of: for anything
// else (malformed JSON, a field missing or of the wrong kind, an escape inside an indexed field,
// a repeated key, a batch over the entry limit) it answers nullopt, and the caller parses the
// body as a tree and ingests that, which stores the same rows or words the same error as always.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "control-plane/decision_store.h"

namespace warden::control_plane {

struct DecisionBatch {
  std::string_view instance_id;
  uint64_t dropped = 0;
  uint64_t damaged = 0;  // the part of `dropped` a damaged spool lost
  std::vector<DecisionRow> rows;  // views into the text read
};

// Nullopt when the reader does not take `text` (see above). Nesting deeper than `max_depth`
// (the server's --max-json-depth) is not taken, nor more than `max_entries` entries.
std::optional<DecisionBatch> ReadDecisionBatch(std::string_view text, int max_depth, size_t max_entries);

}  // namespace warden::control_plane
