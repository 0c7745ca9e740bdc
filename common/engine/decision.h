// The one decision pipeline every edge API shares (design.md, "One decision").
//
//   1. The subject is resolved in the directory: by id, or, for users, by any identity (email,
//      username, PID). Its stored properties join the request's (the request wins on a clash),
//      and its roles are the union of the request's `roles` and the stored `properties.roles`.
//   2. The resource's stored properties join the request's the same way; a resource of type
//      `user` may also be named by an identity.
//   3. If a policy covers the resource type, the policies decide (conditions may ask the
//      directory through check(...)). Otherwise the manifest permission or relation named like
//      the action decides.
//   4. The result says which, and with `explain`, why: the policy and rule, or the relation path.
//
// Everything is read from one Snapshot, so a decision sees one revision.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/directory/checker.h"
#include "common/snapshot/snapshot.h"
#include "common/util/status.h"

namespace warden::engine {

struct Entity {
  std::string type;
  std::string id;
  nlohmann::json properties;  // an object, or null when the request gave none
};

struct DecisionInput {
  Entity subject;
  std::string action;
  // The action's properties (AuthZEN `action.properties`), visible to conditions as
  // request.auxData.action.properties; null when absent.
  nlohmann::json action_properties;
  Entity resource;
  nlohmann::json context;  // visible to conditions as request.auxData.context; null when absent
  bool explain = false;
};

struct DecisionResult {
  bool allowed = false;
  enum class Source { kPolicy, kDirectory } source = Source::kPolicy;
  std::string policy;               // kPolicy: Cerbos's matchedPolicy, e.g. "resource.todo.vdefault"
  std::string rule;                 // kPolicy: the deciding rule's name ("" for the default deny)
  std::vector<std::string> path;    // kDirectory with explain: the relation path, or why none
  std::string reason;               // one readable line
  std::string subject_id;           // the subject after identity resolution
};

// The bounds one decision stays within; the edge's --max-graph-depth, --max-graph-visits and
// --max-eval-cost set them (docs/security.md).
struct DecisionLimits {
  directory::CheckLimits graph;        // every relation walk: the manifest's and check(...) in conditions
  uint64_t max_eval_cost = 1'000'000;  // CEL cost units per condition; spent, the condition does not hold
};

// Decides one request. Errors (returned as Status, answered 4xx by the APIs):
//   InvalidArgument  a missing or empty field, or a resource type that no policy covers and the
//                    manifest does not define ("resource.type: ...")
//   NotFound         a subject of type user/identity that the directory cannot resolve and the
//                    request gives no properties for ("subject.id: ...")
//   ResourceExhausted a graph limit was hit
Result<DecisionResult> Decide(const Snapshot& snapshot, const DecisionInput& input, const DecisionLimits& limits = {});

// The subject id after identity resolution for `type` ("user" and "identity" resolve through the
// directory's identities; other types are taken as given). nullopt when a user cannot be found.
std::optional<std::string> ResolveSubjectId(const Snapshot& snapshot, const std::string& type, const std::string& id);

}  // namespace warden::engine
