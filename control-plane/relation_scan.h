// A fast reader for the shape nearly every relation write has: JSON objects whose members are a
// relation's fields, each a plain string. It builds no JSON tree; for a batch of 1,000 relations
// nlohmann's tree (parse, read, destroy) cost 22 of the 54 M instructions the whole write took
// (callgrind).
//
// It never refuses anything. Text outside that shape (another key, a null, a number, a \u escape,
// a duplicate key, a missing or empty required field, malformed JSON) yields nullopt, and the
// caller parses it with nlohmann as before, which accepts it or refuses it with the usual message.
// Whatever it does accept, the general path would accept as the same tuple: strings are checked as
// strictly (UTF-8 well formed, no raw control characters) and decoded the same way.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "common/directory/directory_types.h"

namespace warden::control_plane {

// One relation object making up the whole text (an import line, a single-relation body).
std::optional<directory::RelationTuple> ScanRelation(std::string_view text);

// {"relations": [relation, ...]} with at least one relation and no other key.
std::optional<std::vector<directory::RelationTuple>> ScanRelationBatch(std::string_view text);

// The deepest nesting ScanRelationBatch accepts (object, array, object): a server configured
// with a smaller --max-json-depth must not take the fast path, since the general one refuses.
inline constexpr int kRelationBatchDepth = 3;

}  // namespace warden::control_plane
