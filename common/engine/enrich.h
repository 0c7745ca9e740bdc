// Enrichment: joining what the directory stores about a principal or resource with what a
// request says of it. Shared by every API so they all see the same subject and resource.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/cel/value.h"
#include "common/policy/cerbos_api.h"
#include "common/snapshot/snapshot.h"

namespace warden::engine {

// Stored properties overlaid with the request's (the request wins on a clash). Either may be
// null; the result is always an object.
nlohmann::json MergeProperties(const nlohmann::json& stored, const nlohmann::json& given);

// The properties stored on (type, id), or null when the object has no record.
nlohmann::json StoredProperties(const Snapshot& snapshot, const std::string& type, const std::string& id);

// The same without a copy: a pointer into the snapshot's record (valid while the snapshot lives),
// or nullptr when the object has no record or the type is unknown.
const nlohmann::json* FindStoredProperties(const Snapshot& snapshot, std::string_view type, std::string_view id);

// Stored properties joined with the request's as a CEL value, copying JSON only when both exist.
cel::Value PropertiesValue(const nlohmann::json* stored, const nlohmann::json& given);

// Adds the strings of properties["roles"] to `roles`, skipping ones already there.
void AddRoles(const nlohmann::json& properties, std::vector<std::string>& roles);

// Cerbos request shapes, enriched in place: a principal {"id","roles","attr"} whose id (or
// identity) names a directory user gets the user's id, the union of roles and the merged attrs;
// a resource {"kind","id","attr"} gets the stored object's properties under its attrs.
// Entities the directory does not know are left as they are.
void EnrichCerbosPrincipal(const Snapshot& snapshot, nlohmann::json& principal);
void EnrichCerbosResource(const Snapshot& snapshot, nlohmann::json& resource);

// The same for a request already read (policy::ScanCheckResourcesRequest), where it amounts to
// resolving the principal's id to its user: true, and the id resolved. False, changing nothing,
// where stored properties would be merged into the principal or a resource; the caller then
// enriches the request's JSON with the two functions above.
bool EnrichScannedCerbosRequest(const Snapshot& snapshot, policy::CheckResourcesRequest& request);

}  // namespace warden::engine
