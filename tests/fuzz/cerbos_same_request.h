// Whether two CheckResources requests hold the same: shared by the unit test and the differential
// fuzz target of the request scanner (common/policy/cerbos_request_scan.h).
#pragma once

#include "common/policy/cerbos_api.h"

namespace warden::fuzz {

// Attributes are compared by their rendering, which shows kinds and the order of map keys.
inline bool SameEntity(const policy::Principal& a, const policy::Principal& b) {
  return a.id == b.id && a.roles == b.roles && a.policy_version == b.policy_version && a.scope == b.scope &&
         a.attr.DebugString() == b.attr.DebugString();
}

inline bool SameEntity(const policy::Resource& a, const policy::Resource& b) {
  return a.kind == b.kind && a.id == b.id && a.policy_version == b.policy_version && a.scope == b.scope &&
         a.attr.DebugString() == b.attr.DebugString();
}

inline bool SameRequest(const policy::CheckResourcesRequest& a, const policy::CheckResourcesRequest& b) {
  if (a.request_id != b.request_id || a.include_meta != b.include_meta || !SameEntity(a.principal, b.principal) ||
      a.aux_data.DebugString() != b.aux_data.DebugString() || a.resources.size() != b.resources.size()) {
    return false;
  }
  for (size_t i = 0; i < a.resources.size(); ++i) {
    if (a.resources[i].actions != b.resources[i].actions || !SameEntity(a.resources[i].resource, b.resources[i].resource)) {
      return false;
    }
  }
  return true;
}

}  // namespace warden::fuzz
