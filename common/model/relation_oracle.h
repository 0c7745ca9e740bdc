// RelationOracle: the narrow interface through which a policy condition asks the directory a
// question ("does this principal have can_edit on this resource?").
//
// The policy engine knows nothing of how the directory stores its graph; the directory engine
// implements this interface over one immutable snapshot, so a decision that mixes roles,
// attributes and relationships reads everything at the same revision.
#pragma once

#include <string_view>

#include "common/util/status.h"

namespace warden {

// An object named by type and id, e.g. {"document", "readme"} or {"user", "alice"}.
struct ObjectRef {
  std::string_view type;
  std::string_view id;
};

class RelationOracle {
 public:
  virtual ~RelationOracle() = default;

  // Whether `subject` (optionally the userset `subject#subject_relation`) holds
  // `relation_or_permission` on `object`. An unknown object type or relation name is an
  // InvalidArgument error; an object with no record and no relations is simply not related
  // (false). Exceeding the depth or fan-out bound is ResourceExhausted. Thread-safe: many
  // decisions call it at once.
  virtual Result<bool> Check(ObjectRef object, std::string_view relation_or_permission,
                             ObjectRef subject, std::string_view subject_relation = {}) const = 0;
};

}  // namespace warden
