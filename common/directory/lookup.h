// Lookups and expansion over one snapshot.
//
// LookupResources walks the reverse index upward from the subject: to the relations naming it
// (or its type's wildcard), to the usersets naming those, to the permissions that use them and
// across arrows, collecting every object of the wanted type reached with the wanted permission.
// When the permission is union-only (Model: MemberDef::union_only) that set is exact; otherwise
// (intersection, exclusion) it is a superset and each candidate is confirmed with Check, so the
// answer always equals { objects for which Check says yes }. LookupSubjects does the same
// downward from the object.
//
// Results are sorted by id and complete unless paged: page_size 0 returns everything; otherwise
// at most page_size ids and an opaque next_cursor (empty on the last page).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/directory/checker.h"
#include "common/directory/snapshot.h"
#include "common/util/status.h"

namespace warden::directory {

struct LookupResourcesRequest {
  std::string subject_type, subject_id;
  std::string subject_relation;  // optional: the subject is a userset
  std::string permission;        // a relation or permission of object_type
  std::string object_type;
  size_t page_size = 0;
  std::string cursor;
};

struct LookupSubjectsRequest {
  std::string object_type, object_id;
  std::string permission;
  std::string subject_type;
  size_t page_size = 0;
  std::string cursor;
};

struct LookupResult {
  std::vector<std::string> ids;
  std::string next_cursor;
  // LookupSubjects only: a wildcard (`subject_type:*`) grants the permission, so subjects the
  // directory has never seen hold it too. `ids` still lists every known subject that holds it.
  bool wildcard = false;
};

// Objects of `object_type` on which the subject holds `permission`. InvalidArgument naming the
// field for an unknown type or name, or a malformed cursor; ResourceExhausted past the limits.
Result<LookupResult> LookupResources(const DirectorySnapshot& snapshot, const LookupResourcesRequest& request,
                                     const CheckLimits& limits = {});

// Subjects of `subject_type` that hold `permission` on the object. A wildcard grant expands to
// every subject of that type the snapshot knows (object records and relation endpoints).
Result<LookupResult> LookupSubjects(const DirectorySnapshot& snapshot, const LookupSubjectsRequest& request,
                                    const CheckLimits& limits = {});

// The userset tree of `permission` on an object, one level deep like SpiceDB's expand:
//   {"object":"document:d1","permission":"view","tree":{"union":[
//      {"relation":"viewer","subjects":["user:u1","group:g1#member"]},
//      {"arrow":"parent->view","subjects":["folder:f1#view"]}]}}
// Operators are "union", "intersection" and "exclusion" (a two-element list: base, excluded).
Result<nlohmann::json> Expand(const DirectorySnapshot& snapshot, const std::string& object_type,
                              const std::string& object_id, const std::string& permission);

}  // namespace warden::directory
