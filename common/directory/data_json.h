// JSON forms of directory data, in Topaz's import shapes:
//   object   {"type","id","display_name"?,"properties"?}
//   relation {"object_type","object_id","relation","subject_type","subject_id","subject_relation"?}
// Topaz's bookkeeping fields (created_at, updated_at, etag, hash) are accepted and ignored.
#pragma once

#include <nlohmann/json.hpp>

#include "common/directory/directory_types.h"
#include "common/util/status.h"

namespace warden::directory {

// InvalidArgument naming the field: a missing or non-string field, properties that are not an
// object, an unknown key.
Result<ObjectRecord> ObjectFromJson(const nlohmann::json& j);
Result<RelationTuple> RelationFromJson(const nlohmann::json& j);

nlohmann::json ObjectToJson(const ObjectRecord& o);
nlohmann::json RelationToJson(const RelationTuple& r);

}  // namespace warden::directory
