// What a decision is asked about and what it answers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/cel/value.h"
#include "common/model/relation_oracle.h"
#include "common/policy/document.h"

namespace warden::policy {

// The subject of a request, as Cerbos's CheckResources names it. `policy_version` empty means
// "default"; `scope` empty (or ".") means the root scope. `attr` is a CEL map (or null for none).
struct Principal {
  std::string id;
  std::vector<std::string> roles;
  std::string policy_version;
  std::string scope;
  cel::Value attr;
};

// The object of a request. For planning, `id` is unknown and `attr` holds only the attributes
// already known (see PolicySet::Plan).
struct Resource {
  std::string kind;
  std::string id;
  std::string policy_version;
  std::string scope;
  cel::Value attr;
};

// The current time as `now()` should see it; callers put it in DecideOptions::now per request.
cel::Timestamp CurrentTime();

struct DecideOptions {
  // Answers `check(...)` in conditions; nullptr makes such conditions evaluate to an error (and
  // so not hold).
  const RelationOracle* oracle = nullptr;
  // What `now()` returns for this request. The default is the Unix epoch, which keeps decisions
  // reproducible in tests; servers set CurrentTime().
  cel::Timestamp now{};
  // request.auxData as conditions see it (Cerbos's JWT claims live under auxData.jwt).
  cel::Value aux_data;
  // Whether to fill Decision::effective_derived_roles (Cerbos reports them only in meta). Off,
  // derived roles are evaluated only where a rule or runtime.effectiveDerivedRoles needs them.
  bool effective_derived_roles = false;
  // The CEL cost budget of each condition evaluated (cel::Activation::set_max_cost): a condition
  // that spends it evaluates to an error, and so does not hold.
  uint64_t max_eval_cost = 1'000'000;
};

// Which kind of policy produced an action's effect.
enum class Matched : uint8_t {
  kNone,       // no policy covers the request (default deny, Cerbos's "NO_MATCH")
  kPrincipal,  // a principal policy
  kResource,   // a resource policy
};

struct CompiledRule;  // opaque here; see RuleName / RuleFile

struct ActionDecision {
  std::string_view action;  // a view of the caller's action string
  Effect effect = Effect::kDeny;
  // The policy kind that decided, the scope of the most specific policy in its chain (Cerbos's
  // matchedPolicy names that one) and the scope that decided (matchedScope). When a policy
  // exists but no rule matched, `matched` names it and `rule` is null.
  Matched matched = Matched::kNone;
  std::string_view policy_scope;
  std::string_view decided_scope;
  const CompiledRule* rule = nullptr;  // the rule that decided, or null (default deny)
};

// One `output` a rule produced: src is Cerbos's "resource.asset.vdefault#rule" (with "/scope"
// after the version for scoped policies).
struct OutputEntry {
  std::string_view src;
  std::string_view action;
  cel::Value value;  // an error value when the output expression failed
};

struct Decision {
  std::vector<ActionDecision> actions;  // in request order
  std::vector<OutputEntry> outputs;
  // Derived roles whose conditions held in the scopes evaluated, sorted; filled only when
  // DecideOptions::effective_derived_roles is set.
  std::vector<std::string_view> effective_derived_roles;

  // The decision for `action`, or nullptr if it was not asked.
  const ActionDecision* Find(std::string_view action) const;
};

// The name of the rule that decided ("" when none).
std::string_view RuleName(const ActionDecision& d);
// The file the deciding rule came from ("" when none).
std::string_view RuleFile(const ActionDecision& d);
// Cerbos's matchedPolicy: "resource.expense.vdefault", "principal.daffy.vdefault/acme", or
// "NO_MATCH" when no policy covered the request.
std::string MatchedPolicy(const ActionDecision& d, const Principal& principal, const Resource& resource);

}  // namespace warden::policy
