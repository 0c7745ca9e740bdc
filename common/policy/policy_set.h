// PolicySet: a compiled, immutable set of Cerbos-compatible policies, and the decisions and query
// plans made with it.
//
// Compile takes every policy file at once and either returns a complete PolicySet or every error
// found (file, line, column, reason); nothing is half-loaded. A PolicySet is shared read-only by
// any number of threads (std::shared_ptr<const PolicySet>); a new set of files makes a new set.
//
// Decisions follow Cerbos 0.55 (see docs/policies.md): principal policies before resource
// policies; in each, the scope chain from most to least specific with scopePermissions; for each
// of the principal's roles, a DENY rule whose condition holds decides, otherwise an ALLOW does,
// and the first role that is allowed wins; nothing matching is a DENY. A condition that fails to
// evaluate (missing attribute, wrong type) does not hold.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/cel/residual.h"
#include "common/policy/compiled.h"
#include "common/policy/request.h"
#include "common/policy/source.h"
#include "common/util/status.h"

namespace warden::policy {

namespace internal {
class EvalContext;
class Planner;
}  // namespace internal

// How large one condition expression may be, checked as written and again after policy
// variables are expanded into it. An operator sets them (warden-edge and warden-control-plane
// --max-expression-length/--max-expression-depth); they travel inside each Snapshot so every
// recompile of the same store, on a delta or a reload, applies the same ones.
struct ExpressionLimits {
  size_t max_length = 100'000;  // bytes of source text
  int max_depth = 200;          // nesting levels; above 400 is taken as 400 (cel::CompileOptions)
};

struct CompileSetOptions {
  // G / globals as conditions see them (Cerbos's engine.globals); a CEL map or null.
  cel::Value globals;
  ExpressionLimits expression_limits;
};

// The answer of Plan: a filter over resources of one kind, in Cerbos's PlanResources shape.
struct PlanResult {
  enum class Kind { kAlwaysAllowed, kAlwaysDenied, kConditional };
  Kind kind = Kind::kAlwaysDenied;
  cel::Residual condition;  // kConditional only: holds exactly for the allowed resources
  // The scope that decided per Cerbos's meta.matchedScopes ("" when none).
  std::string matched_scope;

  // {"kind": "KIND_ALWAYS_ALLOWED"} / {"kind": "KIND_ALWAYS_DENIED"} /
  // {"kind": "KIND_CONDITIONAL", "condition": <plan expression>}
  nlohmann::json FilterJson() const;
};

class PolicySet {
 public:
  // Compiles `sources` into a PolicySet. On failure the Status is InvalidArgument with every
  // error, one per line ("file:line:column: reason"); `errors`, when given, receives them as
  // values. Files with no policy in them (only comments) are errors; disabled policies are
  // skipped.
  static Result<std::shared_ptr<const PolicySet>> Compile(const std::vector<SourceDocument>& sources,
                                                          const CompileSetOptions& options = {},
                                                          std::vector<LoadError>* errors = nullptr);

  // Decides every action in `actions` for one principal and resource, writing into `out`
  // (cleared first; its vectors keep their capacity, so reusing one Decision across calls makes
  // a pure role decision allocation-free). The strings in `out` view `actions`, `principal`,
  // `resource` and this set: they must outlive `out`'s use.
  void Decide(const Principal& principal, const Resource& resource, std::span<const std::string> actions,
              const DecideOptions& options, Decision& out) const;
  Decision Decide(const Principal& principal, const Resource& resource, std::span<const std::string> actions,
                  const DecideOptions& options = {}) const;

  // The query plan for `action` on resources of `resource.kind` (with its policyVersion and
  // scope): which of them the principal may act on, with everything about the principal folded
  // away. Attributes given in `resource.attr` are known (folded away, as Cerbos substitutes
  // them); every other `R.attr.<name>` stays in the plan.
  PlanResult Plan(const Principal& principal, const Resource& resource, std::string_view action,
                  const DecideOptions& options = {}) const;

  // Whether any resource policy (any version or scope) covers resources of `kind`. The edge asks
  // the directory instead when none does.
  bool CoversResourceKind(std::string_view kind) const;

  // The action names the rules for resources of `kind` spell out (resource policies of that kind
  // or a glob matching it, principal rules whose resource matches it), sorted and unique. Action
  // globs ("*", "view:*") name no action in particular and are left out. For searches that must
  // enumerate what could be allowed; deciding each is still Decide's job.
  std::vector<std::string> ActionsOf(std::string_view kind) const;

  // How many resource and principal policies the set holds.
  size_t policy_count() const { return policies_.size(); }

  PolicySet(const PolicySet&) = delete;
  PolicySet& operator=(const PolicySet&) = delete;
  ~PolicySet();

 private:
  friend class SetCompiler;
  friend class internal::EvalContext;
  friend class internal::Planner;
  PolicySet() = default;

  const CompiledPolicy* FindResourcePolicy(std::string_view kind, std::string_view version,
                                           std::string_view scope) const;
  const CompiledPolicy* FindPrincipalPolicy(std::string_view id, std::string_view version,
                                            std::string_view scope) const;
  ScopePermissions PermissionsOf(std::string_view scope) const;

  std::vector<std::unique_ptr<CompiledPolicy>> policies_;
  std::vector<std::unique_ptr<CompiledDerivedRole>> derived_roles_;
  // kind -> version -> scope -> policy (resource policies with an exact kind)
  StringMap<StringMap<StringMap<const CompiledPolicy*>>> resource_index_;
  std::vector<const CompiledPolicy*> glob_resource_policies_;  // kinds containing '*'
  // principal id -> version -> scope -> policy
  StringMap<StringMap<StringMap<const CompiledPolicy*>>> principal_index_;
  // scopes used by any resource (resp. principal) policy, and per version for principal policies
  StringMap<bool> resource_scopes_;
  StringMap<bool> principal_scopes_;
  StringMap<StringMap<bool>> principal_version_scopes_;
  StringMap<ScopePermissions> scope_permissions_;
  cel::Value globals_;
  int rule_count_ = 0;
  // Every `R.attr.<name>` any condition reads: what Plan marks unknown when some are given.
  std::vector<std::string> resource_attr_names_;
};

}  // namespace warden::policy
