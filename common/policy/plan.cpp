// PolicySet::Plan: Cerbos's PlanResources over the compiled set.
//
// Every rule row that could apply is partially evaluated with the resource unknown; the
// residuals are combined the way Cerbos 0.55's planner combines them: per scope, ALLOW rows are
// OR-ed and DENY rows are OR-ed; along the scope chain, a parent's DENY only counts where no
// OVERRIDE_PARENT child allowed, and a REQUIRE_PARENTAL_CONSENT_FOR_ALLOWS scope's ALLOW must be
// AND-ed with its parent's; per principal role the results are OR-ed; finally
// allowed = !principalDeny && (principalAllow || (!resourceDeny && resourceAllow)).
#include <optional>

#include <nlohmann/json.hpp>

#include "common/cel/partial.h"
#include "common/policy/decide_internal.h"
#include "common/policy/policy_set.h"

namespace warden::policy {

nlohmann::json PlanResult::FilterJson() const {
  switch (kind) {
    case Kind::kAlwaysAllowed:
      return {{"kind", "KIND_ALWAYS_ALLOWED"}};
    case Kind::kAlwaysDenied:
      return {{"kind", "KIND_ALWAYS_DENIED"}};
    case Kind::kConditional:
      return {{"kind", "KIND_CONDITIONAL"}, {"condition", cel::ToPlanJson(condition)}};
  }
  return {{"kind", "KIND_ALWAYS_DENIED"}};
}

namespace internal {

cel::Value PrincipalValue(const Principal& p);
cel::Value ResourceValue(const Resource& r);
cel::Value RuntimeValue(std::vector<std::string_view> roles);

using Node = std::optional<cel::Residual>;

class Planner {
 public:
  Planner(const PolicySet& set, const Principal& principal, const Resource& resource, const DecideOptions& options)
      : set_(set), principal_(principal), resource_(resource) {
    activation_.Bind("P", PrincipalValue(principal));
    activation_.Bind("R", ResourceValue(resource));
    activation_.Bind("G", set.globals_);
    activation_.Bind("request.auxData", options.aux_data.is_null() ? cel::Value::Map({}) : options.aux_data);
    activation_.Bind("runtime", RuntimeValue({}));
    const bool some_known = resource.attr.kind() == cel::Kind::kMap && !resource.attr.map_value().empty();
    if (!some_known) {
      activation_.MarkUnknown("R.attr", "request.resource.attr");
    } else {
      for (const auto& name : set.resource_attr_names_) {
        if (resource.attr.map_value().FindString(name) == nullptr) {
          activation_.MarkUnknown("R.attr." + name, "request.resource.attr." + name);
        }
      }
    }
    activation_.MarkUnknown("R.id", "request.resource.id");
    activation_.set_now(options.now);
    activation_.set_oracle(options.oracle);
    activation_.set_max_cost(options.max_eval_cost);
  }

  PlanResult Run(std::string_view action) {
    PlanResult result;
    const std::string_view version = resource_.policy_version.empty() ? std::string_view("default") : std::string_view(resource_.policy_version);
    ScopeChain p_scopes, r_scopes;
    p_scopes.Build(set_.principal_scopes_, NormalizeScope(principal_.scope));
    r_scopes.Build(set_.resource_scopes_, NormalizeScope(resource_.scope));
    if (p_scopes.n == 0 && r_scopes.n == 0) return result;

    Node root;
    bool has_type_allow = false;
    for (int pt = 0; pt < 2; ++pt) {
      const bool is_principal = pt == 1;  // resource policies first, as Cerbos's planner does
      const ScopeChain& scopes = is_principal ? p_scopes : r_scopes;
      Node type_allow, type_deny;
      const size_t roles = is_principal ? std::min<size_t>(1, principal_.roles.size()) : principal_.roles.size();
      for (size_t ri = 0; ri < roles; ++ri) {
        const std::string_view role = principal_.roles[ri];
        Node role_allow, role_deny, child_override_allow;
        bool pending_allow = false;
        for (int si = 0; si < scopes.n; ++si) {
          if (child_override_allow && child_override_allow->IsTrue()) break;
          const std::string_view scope = scopes.items[si];
          BindRuntime(is_principal ? nullptr : set_.FindResourcePolicy(resource_.kind, version, scope));
          Node scope_allow, scope_deny;
          auto visit = [&](const CompiledPolicy& policy) {
            for (const auto& rp : policy.rules) {
              const CompiledRule& rule = *rp;
              if (is_principal && !GlobMatch(rule.resource, resource_.kind)) continue;
              for (const auto& ap : rule.actions) {
                if (!GlobMatch(ap, action)) continue;
                for (const auto& rolep : rule.roles) {
                  if (GlobMatch(rolep, role)) AddRow(rule, nullptr, scope_allow, scope_deny);
                }
                for (const auto* dr : rule.derived_roles) {
                  for (const auto& parent : dr->parent_roles) {
                    if (GlobMatch(parent, role)) AddRow(rule, dr, scope_allow, scope_deny);
                  }
                }
              }
            }
          };
          if (is_principal) {
            if (const auto* p = set_.FindPrincipalPolicy(principal_.id, version, scope)) visit(*p);
          } else {
            if (const auto* p = set_.FindResourcePolicy(resource_.kind, version, scope)) visit(*p);
            for (const auto* g : set_.glob_resource_policies_) {
              if (g->version == version && g->scope == scope && GlobMatch(g->name, resource_.kind)) visit(*g);
            }
          }
          // A parent's DENY applies only where no OVERRIDE_PARENT child already allowed.
          if (scope_deny && child_override_allow) {
            const cel::Residual inv = cel::Residual::Not(*child_override_allow);
            scope_deny = scope_deny->IsTrue() ? inv : cel::Residual::And(inv, *scope_deny);
          }
          role_deny = Add(role_deny, scope_deny, false);
          const ScopePermissions perms = set_.PermissionsOf(scope);
          if (scope_allow) {
            if (!role_allow) {
              role_allow = scope_allow;
            } else if (pending_allow) {
              role_allow = cel::Residual::And(*role_allow, *scope_allow);
              pending_allow = false;
            } else {
              role_allow = cel::Residual::Or(*role_allow, *scope_allow);
            }
            if (perms == ScopePermissions::kRequireParentalConsentForAllows) pending_allow = true;
          }
          if ((scope_deny || scope_allow) && perms == ScopePermissions::kOverrideParent &&
              result.matched_scope.empty()) {
            result.matched_scope = std::string(scope);
          }
          if (scope_allow && perms == ScopePermissions::kOverrideParent) {
            child_override_allow = Add(child_override_allow, scope_allow, false);
          }
        }
        if (pending_allow) role_allow.reset();
        if (role_deny && role_deny->IsTrue()) {
          role_allow = cel::Residual::Known(cel::Value::Bool(false));
          role_deny.reset();
        } else if (role_allow && !role_deny && role_allow->IsTrue()) {
          type_allow = role_allow;
          type_deny.reset();
          break;
        }
        type_allow = Add(type_allow, role_allow, false);
        type_deny = Add(type_deny, role_deny, false);
      }
      if (type_allow) {
        has_type_allow = true;
        root = root ? cel::Residual::Or(*type_allow, *root) : *type_allow;
      }
      if (type_deny) {
        const cel::Residual inv = cel::Residual::Not(*type_deny);
        root = root ? cel::Residual::And(inv, *root) : inv;
      }
    }
    if (!root || !has_type_allow || root->IsFalse()) return result;
    if (root->IsTrue()) {
      result.kind = PlanResult::Kind::kAlwaysAllowed;
      return result;
    }
    if (root->is_known()) return result;  // a non-bool constant: nothing is allowed
    result.kind = PlanResult::Kind::kConditional;
    result.condition = *root;
    return result;
  }

 private:
  static Node Add(const Node& curr, const Node& next, bool conjunction) {
    if (!next) return curr;
    if (!curr) return next;
    return conjunction ? cel::Residual::And(*curr, *next) : cel::Residual::Or(*curr, *next);
  }

  void AddRow(const CompiledRule& rule, const CompiledDerivedRole* dr, Node& scope_allow, Node& scope_deny) {
    const bool consent = rule.policy->scope_permissions == ScopePermissions::kRequireParentalConsentForAllows &&
                         rule.effect == Effect::kAllow && rule.condition != nullptr;
    Effect effect = rule.effect;
    cel::Residual node = rule.condition ? Condition(*rule.condition, rule.policy->constants) : True();
    if (consent) {
      node = cel::Residual::Not(node);
      effect = Effect::kDeny;
    }
    if (dr != nullptr) {
      const cel::Residual dr_node = dr->condition ? Condition(*dr->condition, dr->constants) : True();
      node = rule.condition ? cel::Residual::And(node, dr_node) : dr_node;
    }
    if (effect == Effect::kAllow) {
      scope_allow = Add(scope_allow, node, false);
    } else {
      if (node.IsFalse()) return;
      scope_deny = Add(scope_deny, node, false);
    }
  }

  // runtime.effectiveDerivedRoles for the rules of `policy`'s scope: the derived roles whose
  // conditions hold knowing only the principal. (Cerbos also folds in roles that depend on the
  // resource, as conditional list elements; Warden leaves those out.)
  void BindRuntime(const CompiledPolicy* policy) {
    std::vector<std::string_view> names;
    if (policy != nullptr) {
      for (const auto* dr : policy->derived_roles) {
        bool parent = false;
        for (const auto& pr : dr->parent_roles) {
          for (const auto& role : principal_.roles) parent = parent || pr == "*" || pr == role;
        }
        if (parent && (dr->condition == nullptr || Condition(*dr->condition, dr->constants).IsTrue())) {
          names.push_back(dr->name);
        }
      }
    }
    activation_.Bind("runtime", RuntimeValue(std::move(names)));
  }

  static cel::Residual True() { return cel::Residual::Known(cel::Value::Bool(true)); }
  static cel::Residual False() { return cel::Residual::Known(cel::Value::Bool(false)); }

  cel::Residual Condition(const CompiledMatch& m, const cel::Value& constants) {
    switch (m.op) {
      case MatchNode::Op::kExpr: {
        if (!m.program) return False();
        activation_.Bind("C", constants);
        cel::Residual r = cel::PartialEvaluate(*m.program, activation_);
        if (r.is_known()) {
          // Errors and non-bool results do not hold.
          return r.value().kind() == cel::Kind::kBool ? r : False();
        }
        return r;
      }
      case MatchNode::Op::kAll: {
        Node acc;
        for (const auto& c : m.children) {
          cel::Residual n = Condition(c, constants);
          if (n.IsFalse()) return False();
          if (n.IsTrue()) continue;
          acc = Add(acc, n, true);
        }
        return acc ? *acc : True();
      }
      case MatchNode::Op::kAny: {
        Node acc;
        for (const auto& c : m.children) {
          cel::Residual n = Condition(c, constants);
          if (n.IsTrue()) return True();
          if (n.IsFalse()) continue;
          acc = Add(acc, n, false);
        }
        return acc ? *acc : False();
      }
      case MatchNode::Op::kNone: {
        Node acc;
        for (const auto& c : m.children) {
          cel::Residual n = Condition(c, constants);
          if (n.IsTrue()) return False();
          if (n.IsFalse()) continue;
          acc = Add(acc, cel::Residual::Not(n), true);
        }
        return acc ? *acc : True();
      }
    }
    return False();
  }

  const PolicySet& set_;
  const Principal& principal_;
  const Resource& resource_;
  cel::Activation activation_;
};

}  // namespace internal

PlanResult PolicySet::Plan(const Principal& principal, const Resource& resource, std::string_view action,
                           const DecideOptions& options) const {
  internal::Planner planner(*this, principal, resource, options);
  return planner.Run(action);
}

}  // namespace warden::policy
