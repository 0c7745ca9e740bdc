// PolicySet::Decide: Cerbos's check algorithm over the compiled set.
//
// The walk mirrors Cerbos 0.55's rule table: for each action, principal policies then resource
// policies; within each, every principal role separately (principal rules once), the scope chain
// from most to least specific, and in each scope the matching rule rows in policy order. A row
// is one (rule, action pattern, role pattern) or (rule, action pattern, derived role, parent role
// pattern) combination, which is why outputs can repeat. Condition results are cached per
// (rule, derived role) for the whole request, as Cerbos does.
#include <algorithm>
#include <array>
#include <chrono>

#include "common/cel/evaluate.h"
#include "common/policy/decide_internal.h"
#include "common/policy/policy_set.h"

namespace warden::policy {

bool GlobMatch(std::string_view pattern, std::string_view value) {
  if (pattern == "*" || pattern == "**") return true;
  if (pattern.find('*') == std::string_view::npos && pattern.find('?') == std::string_view::npos) {
    return pattern == value;
  }
  // Backtracking match: '*' spans anything but ':', "**" spans anything, '?' one non-':' char.
  size_t p = 0, v = 0;
  size_t star_p = std::string_view::npos, star_v = 0;
  bool star_any = false;
  while (v < value.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_any = p + 1 < pattern.size() && pattern[p + 1] == '*';
      p += star_any ? 2 : 1;
      star_p = p;
      star_v = v;
      continue;
    }
    if (p < pattern.size() && (pattern[p] == value[v] || (pattern[p] == '?' && value[v] != ':'))) {
      ++p;
      ++v;
      continue;
    }
    if (star_p != std::string_view::npos && (star_any || value[star_v] != ':')) {
      ++star_v;
      v = star_v;
      p = star_p;
      continue;
    }
    return false;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

cel::Timestamp CurrentTime() {
  const auto since = std::chrono::system_clock::now().time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  return {secs.count(), static_cast<int32_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(since - secs).count())};
}

const ActionDecision* Decision::Find(std::string_view action) const {
  for (const auto& a : actions) {
    if (a.action == action) return &a;
  }
  return nullptr;
}

std::string_view RuleName(const ActionDecision& d) { return d.rule != nullptr ? std::string_view(d.rule->name) : ""; }
std::string_view RuleFile(const ActionDecision& d) { return d.rule != nullptr ? std::string_view(d.rule->file) : ""; }

std::string MatchedPolicy(const ActionDecision& d, const Principal& principal, const Resource& resource) {
  if (d.matched == Matched::kNone) return "NO_MATCH";
  // Cerbos names a principal policy by the principal's policyVersion, a resource policy by the
  // resource's (even though the resource's version selects the rules of both).
  const bool p = d.matched == Matched::kPrincipal;
  const std::string& version = p ? principal.policy_version : resource.policy_version;
  std::string key = p ? "principal." + principal.id : "resource." + resource.kind;
  key += ".v";
  key += version.empty() ? "default" : version;
  if (!d.policy_scope.empty()) {
    key += "/";
    key += d.policy_scope;
  }
  return key;
}

PolicySet::~PolicySet() = default;

const CompiledPolicy* PolicySet::FindResourcePolicy(std::string_view kind, std::string_view version,
                                                    std::string_view scope) const {
  if (auto a = resource_index_.find(kind); a != resource_index_.end()) {
    if (auto b = a->second.find(version); b != a->second.end()) {
      if (auto c = b->second.find(scope); c != b->second.end()) return c->second;
    }
  }
  return nullptr;
}

const CompiledPolicy* PolicySet::FindPrincipalPolicy(std::string_view id, std::string_view version,
                                                     std::string_view scope) const {
  if (auto a = principal_index_.find(id); a != principal_index_.end()) {
    if (auto b = a->second.find(version); b != a->second.end()) {
      if (auto c = b->second.find(scope); c != b->second.end()) return c->second;
    }
  }
  return nullptr;
}

ScopePermissions PolicySet::PermissionsOf(std::string_view scope) const {
  auto it = scope_permissions_.find(scope);
  return it == scope_permissions_.end() ? ScopePermissions::kOverrideParent : it->second;
}

bool PolicySet::CoversResourceKind(std::string_view kind) const {
  if (resource_index_.contains(kind)) return true;
  for (const auto* p : glob_resource_policies_) {
    if (GlobMatch(p->name, kind)) return true;
  }
  return false;
}

namespace internal {

std::string_view NormalizeScope(std::string_view scope) {
  if (!scope.empty() && scope.front() == '.') scope.remove_prefix(1);
  return scope;
}

void ScopeChain::Build(const StringMap<bool>& known, std::string_view scope) {
  n = 0;
  if (!known.contains(scope)) return;
  items[n++] = scope;
  for (size_t i = scope.size(); i-- > 0;) {
    if (scope[i] == '.' || i == 0) {
      const std::string_view parent = scope.substr(0, i);
      if (known.contains(parent) && n < kMaxScopes) items[n++] = parent;
    }
  }
}

}  // namespace internal

using internal::EvalContext;
using internal::ScopeChain;

namespace {

enum class RowResult { kContinue, kDeny };

struct ActionWalk {
  EvalContext& ctx;
  std::string_view action;
  Decision& out;
  bool has_allow = false;
  const CompiledRule* allow_rule = nullptr;
  const CompiledRule* deny_rule = nullptr;

  RowResult Row(const CompiledRule& rule, const CompiledDerivedRole* dr, std::string_view scope) {
    const bool consent = rule.policy->scope_permissions == ScopePermissions::kRequireParentalConsentForAllows &&
                         rule.effect == Effect::kAllow && rule.condition != nullptr;
    const Effect effect = consent ? Effect::kDeny : rule.effect;
    bool satisfied;
    if (auto cached = ctx.CachedCondition(rule.id, dr)) {
      satisfied = *cached;
    } else {
      if (dr != nullptr && dr->condition != nullptr &&
          !ctx.Holds(*dr->condition, dr->constants, scope)) {
        ctx.CacheCondition(rule.id, dr, false);
        return RowResult::kContinue;
      }
      satisfied = rule.condition == nullptr || ctx.Holds(*rule.condition, rule.policy->constants, scope);
      if (consent) satisfied = !satisfied;  // none(condition)
      ctx.CacheCondition(rule.id, dr, satisfied);
    }
    if (satisfied) {
      if (rule.output_activated) {
        out.outputs.push_back({rule.src, action, ctx.Eval(*rule.output_activated, rule.policy->constants, scope)});
      }
      if (effect == Effect::kAllow) {
        has_allow = true;
        if (allow_rule == nullptr) allow_rule = &rule;
        return RowResult::kContinue;
      }
      deny_rule = &rule;
      return RowResult::kDeny;
    }
    if (rule.output_not_met) {
      out.outputs.push_back({rule.src, action, ctx.Eval(*rule.output_not_met, rule.policy->constants, scope)});
    }
    return RowResult::kContinue;
  }

  // Runs every row of `policy` matching (action, role) in this scope.
  RowResult Policy(const CompiledPolicy& policy, std::string_view role, std::string_view scope, bool principal) {
    for (const auto& rp : policy.rules) {
      const CompiledRule& rule = *rp;
      if (principal && !GlobMatch(rule.resource, ctx.resource.kind)) continue;
      for (const auto& ap : rule.actions) {
        if (!GlobMatch(ap, action)) continue;
        for (const auto& rolep : rule.roles) {
          if (GlobMatch(rolep, role) && Row(rule, nullptr, scope) == RowResult::kDeny) return RowResult::kDeny;
        }
        for (const auto* dr : rule.derived_roles) {
          for (const auto& parent : dr->parent_roles) {
            if (GlobMatch(parent, role) && Row(rule, dr, scope) == RowResult::kDeny) return RowResult::kDeny;
          }
        }
      }
    }
    return RowResult::kContinue;
  }
};

}  // namespace

void PolicySet::Decide(const Principal& principal, const Resource& resource, std::span<const std::string> actions,
                       const DecideOptions& options, Decision& out) const {
  out.actions.clear();
  out.outputs.clear();
  out.effective_derived_roles.clear();
  for (const auto& a : actions) out.actions.push_back({a, Effect::kDeny, Matched::kNone, {}, {}, nullptr});

  const std::string_view p_scope = internal::NormalizeScope(principal.scope);
  const std::string_view r_scope = internal::NormalizeScope(resource.scope);
  const std::string_view p_version = principal.policy_version.empty() ? std::string_view("default") : std::string_view(principal.policy_version);
  const std::string_view version = resource.policy_version.empty() ? std::string_view("default") : std::string_view(resource.policy_version);

  ScopeChain p_scopes, r_scopes;
  p_scopes.Build(principal_scopes_, p_scope);
  r_scopes.Build(resource_scopes_, r_scope);
  if (p_scopes.n == 0 && r_scopes.n == 0) return;

  bool principal_exists = false;
  if (auto it = principal_version_scopes_.find(p_version); it != principal_version_scopes_.end()) {
    for (int i = 0; i < p_scopes.n && !principal_exists; ++i) principal_exists = it->second.contains(p_scopes.items[i]);
  }
  bool resource_exists = false;
  for (int i = 0; i < r_scopes.n && !resource_exists; ++i) {
    resource_exists = FindResourcePolicy(resource.kind, version, r_scopes.items[i]) != nullptr;
    for (const auto* g : glob_resource_policies_) {
      resource_exists = resource_exists ||
                        (g->version == version && g->scope == r_scopes.items[i] && GlobMatch(g->name, resource.kind));
    }
  }
  if (!principal_exists && !resource_exists) return;

  EvalContext ctx(*this, principal, resource, options, out);

  for (auto& decision : out.actions) {
    ActionWalk walk{ctx, decision.action, out};
    ActionDecision action_info = decision;
    bool action_no_match = true;
    for (int pt = 0; pt < 2; ++pt) {
      const bool is_principal = pt == 0;
      const ScopeChain& scopes = is_principal ? p_scopes : r_scopes;
      const bool exists = is_principal ? principal_exists : resource_exists;
      action_no_match = true;
      const size_t roles = is_principal ? std::min<size_t>(1, principal.roles.size()) : principal.roles.size();
      for (size_t ri = 0; ri < roles; ++ri) {
        const std::string_view role = principal.roles[ri];
        ActionDecision role_info = decision;
        bool role_no_match = true;
        role_info.matched = exists ? (is_principal ? Matched::kPrincipal : Matched::kResource) : Matched::kNone;
        role_info.policy_scope = scopes.n > 0 ? scopes.items[0] : std::string_view();
        walk.has_allow = false;
        walk.allow_rule = nullptr;
        for (int si = 0; si < scopes.n; ++si) {
          const std::string_view scope = scopes.items[si];
          if (!is_principal) ctx.EnterResourceScope(scope, version);
          RowResult rr = RowResult::kContinue;
          if (is_principal) {
            if (const auto* p = FindPrincipalPolicy(principal.id, version, scope)) rr = walk.Policy(*p, role, scope, true);
          } else {
            if (const auto* p = FindResourcePolicy(resource.kind, version, scope)) rr = walk.Policy(*p, role, scope, false);
            for (const auto* g : glob_resource_policies_) {
              if (rr == RowResult::kContinue && g->version == version && g->scope == scope &&
                  GlobMatch(g->name, resource.kind)) {
                rr = walk.Policy(*g, role, scope, false);
              }
            }
          }
          if (rr == RowResult::kDeny) {
            role_info.effect = Effect::kDeny;
            role_info.decided_scope = scope;
            role_info.rule = walk.deny_rule;
            role_no_match = false;
            break;
          }
          if (walk.has_allow) {
            if (PermissionsOf(scope) == ScopePermissions::kRequireParentalConsentForAllows) {
              walk.has_allow = false;
              walk.allow_rule = nullptr;
            } else {
              role_info.effect = Effect::kAllow;
              role_info.decided_scope = scope;
              role_info.rule = walk.allow_rule;
              role_no_match = false;
              break;
            }
          }
        }
        if (action_no_match) {
          action_info = role_info;
          action_no_match = role_no_match;
        }
        if (!role_no_match && role_info.effect == Effect::kAllow) {
          action_info = role_info;
          action_no_match = false;
          break;
        }
      }
      if (!action_no_match) break;
    }
    if (action_no_match) {
      action_info.effect = Effect::kDeny;
      action_info.rule = nullptr;
    }
    decision = action_info;
  }
  ctx.FinishDerivedRoles();
}

Decision PolicySet::Decide(const Principal& principal, const Resource& resource, std::span<const std::string> actions,
                           const DecideOptions& options) const {
  Decision d;
  Decide(principal, resource, actions, options, d);
  return d;
}

}  // namespace warden::policy
