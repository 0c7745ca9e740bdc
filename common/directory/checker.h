// Checks: does a subject hold a relation or permission on an object, in one snapshot?
//
// The walk follows the manifest's expressions over the snapshot's forward index: a relation is
// granted by a stored tuple naming the subject (or the wildcard `type:*`) or by a userset the
// subject belongs to; a permission by its expression (union, intersection, exclusion, arrows).
//
// Cycles: a membership cycle is a fixpoint, not an error. The walk marks the (object, name)
// nodes it is evaluating; meeting one again contributes "not yet known" (false) and the answers
// that depended on it are not remembered until the cycle's first node finishes, so every node
// of a cycle gets the least-fixpoint answer: a user is a member of every group in a membership
// cycle exactly when it is a member of one of them. Cycles through an exclusion have no such
// fixpoint; they are evaluated the same way (SpiceDB refuses them with an error).
//
// A check allocates nothing in the steady state (a per-thread scratch table is reused) and takes
// no lock.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/directory/snapshot.h"
#include "common/model/relation_oracle.h"
#include "common/util/status.h"

namespace warden::directory {

struct CheckLimits {
  int max_depth = 64;             // hops from the object to the subject (values above 10,000 act as 10,000)
  size_t max_visits = 1'000'000;  // (object, relation) nodes evaluated per check: the fan-out bound
};

struct CheckRequest {
  std::string object_type, object_id;
  std::string relation;  // a relation or a permission of object_type
  std::string subject_type, subject_id;
  std::string subject_relation;  // optional: check a userset such as group:g1#member
  bool trace = false;
};

struct CheckResult {
  bool allowed = false;
  // With CheckRequest::trace: when allowed, the path from the object to the subject, one step per
  // entry ("document:d1#view", "document:d1#parent@folder:f1", "folder:f1#viewer@user:u1");
  // when denied, why.
  std::vector<std::string> trace;
};

// Answers one check. An unknown object type, relation name or subject type is InvalidArgument
// naming the field; unknown ids are simply not related (allowed = false). A subject of type
// `user` may be named by any of its identities (see DirectorySnapshot::ResolveUser). Exceeding
// a limit is ResourceExhausted. Thread-safe.
Result<CheckResult> Check(const DirectorySnapshot& snapshot, const CheckRequest& request, const CheckLimits& limits = {});

// Stands for a subject id that was never interned: it equals no stored id, so only wildcards
// can grant it anything.
inline constexpr uint32_t kUnknownId = 0xffffffffu;

// The same check on interned values (the engine's fast path; no name resolution).
struct SubjectRef {
  Symbol type = 0;
  uint32_t id = 0;
  Symbol relation = 0;
};
Result<bool> CheckInterned(const DirectorySnapshot& snapshot, Symbol object_type, uint32_t object_id, Symbol name,
                           SubjectRef subject, const CheckLimits& limits = {}, std::vector<std::string>* trace = nullptr);

// Checks `name` on many objects of one type for one subject, sharing what the walks learn (a
// folder's answer is computed once for all of its documents). allowed[i] answers object_ids[i].
// The limits apply to each object's walk.
Status CheckObjects(const DirectorySnapshot& snapshot, Symbol object_type, const std::vector<uint32_t>& object_ids,
                    Symbol name, SubjectRef subject, const CheckLimits& limits, std::vector<char>& allowed);

// RelationOracle over a snapshot its caller keeps alive, with the caller's limits: made on the
// stack per decision, so a check(...) in a condition walks within that request's bounds.
class BoundedRelationOracle final : public RelationOracle {
 public:
  BoundedRelationOracle(const DirectorySnapshot& snapshot, const CheckLimits& limits)
      : snapshot_(snapshot), limits_(limits) {}
  Result<bool> Check(ObjectRef object, std::string_view relation_or_permission, ObjectRef subject,
                     std::string_view subject_relation = {}) const override;

 private:
  const DirectorySnapshot& snapshot_;
  const CheckLimits& limits_;
};

// RelationOracle over one snapshot, for policy conditions. Keeps the snapshot alive.
class SnapshotRelationOracle final : public RelationOracle {
 public:
  explicit SnapshotRelationOracle(std::shared_ptr<const DirectorySnapshot> snapshot, CheckLimits limits = {})
      : snapshot_(std::move(snapshot)), limits_(limits) {}
  Result<bool> Check(ObjectRef object, std::string_view relation_or_permission, ObjectRef subject,
                     std::string_view subject_relation = {}) const override;
  const DirectorySnapshot& snapshot() const { return *snapshot_; }

 private:
  std::shared_ptr<const DirectorySnapshot> snapshot_;
  CheckLimits limits_;
};

}  // namespace warden::directory
