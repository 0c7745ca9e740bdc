// JSON requests and responses for the directory, in Topaz's v3 directory shapes. The edge's
// HTTP handlers and `wardenctl eval` call these; they know nothing of HTTP.
//
// Every function validates its request: a missing required field, a field of the wrong JSON
// type or an unknown field is InvalidArgument whose message starts with the field's name
// ("subject_id: required", "page_size: must be a non-negative integer").
#pragma once

#include <nlohmann/json.hpp>

#include "common/directory/checker.h"
#include "common/directory/snapshot.h"
#include "common/util/status.h"

namespace warden::directory {

// {"object_type","object_id","relation","subject_type","subject_id","subject_relation"?,"trace"?}
//   -> {"check": bool, "trace": [steps]}   (relation may name a permission; "trace" lists the
//   granting path, or why none was found, only when the request asked for it)
Result<nlohmann::json> CheckJson(const DirectorySnapshot& snapshot, const nlohmann::json& request,
                                 const CheckLimits& limits = {});

// {"lookup":"resources","subject_type","subject_id","subject_relation"?,"permission","object_type",
//  "page_size"?,"cursor"?}
// {"lookup":"subjects","object_type","object_id","permission","subject_type","page_size"?,"cursor"?}
//   -> {"results": [ids], "next_cursor": ""}; subject lookups add "wildcard": true when a
//   `type:*` grant lets every subject of the type in. page_size 0 or absent: all results.
Result<nlohmann::json> LookupJson(const DirectorySnapshot& snapshot, const nlohmann::json& request,
                                  const CheckLimits& limits = {});

// {"object_type","object_id","with_relations"?} -> {"result": object, "relations": [...]?}
// NotFound when there is no such object record.
Result<nlohmann::json> GetObjectJson(const DirectorySnapshot& snapshot, const nlohmann::json& request);

// {"object_type"?,"object_id"?,"relation"?,"subject_type"?,"subject_id"?,"subject_relation"?,
//  "page_size"? (1..10000, default 100),"cursor"?} -> {"results": [relations], "next_cursor"}
Result<nlohmann::json> GetRelationsJson(const DirectorySnapshot& snapshot, const nlohmann::json& request);

// {"object_type"?,"page_size"?,"cursor"?} -> {"results": [objects], "next_cursor"}
Result<nlohmann::json> GetObjectsJson(const DirectorySnapshot& snapshot, const nlohmann::json& request);

// {"object_type","object_id","permission"} -> the userset tree (see lookup.h, Expand).
Result<nlohmann::json> ExpandJson(const DirectorySnapshot& snapshot, const nlohmann::json& request);

// {"identity": "rick@the-citadel.com"} -> {"user": "<user id>"}; NotFound when none matches.
Result<nlohmann::json> ResolveIdentityJson(const DirectorySnapshot& snapshot, const nlohmann::json& request);

// What `wardenctl eval --data DIR` feeds the directory: a request with "lookup" is a lookup,
// one with "expand": true an expansion, anything else a check.
Result<nlohmann::json> DirectoryRequestJson(const DirectorySnapshot& snapshot, const nlohmann::json& request,
                                            const CheckLimits& limits = {});

}  // namespace warden::directory
