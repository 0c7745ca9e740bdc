#include <algorithm>

#include "common/cel/evaluate.h"
#include "common/policy/decide_internal.h"
#include "common/policy/policy_set.h"

namespace warden::policy::internal {

namespace {

cel::Value Str(std::string_view s) { return cel::Value::String(std::string(s)); }

cel::Value AttrOrEmpty(const cel::Value& attr) {
  static const cel::Value empty = cel::Value::Map({});
  return attr.kind() == cel::Kind::kMap ? attr : empty;
}

}  // namespace

// Map keys and empty strings shared by every request: copying a Value only bumps a count.
struct Keys {
  cel::Value id = Str("id"), roles = Str("roles"), attr = Str("attr"), policy_version = Str("policyVersion"),
             scope = Str("scope"), kind = Str("kind"), empty = Str(""), edr = Str("effectiveDerivedRoles");
};
const Keys& K() {
  static const Keys keys;
  return keys;
}
cel::Value StrOrEmpty(std::string_view s) { return s.empty() ? K().empty : Str(s); }

// The CEL view of a principal and a resource, as Cerbos's request.principal / request.resource.
cel::Value PrincipalValue(const Principal& p) {
  cel::ListValue roles;
  roles.reserve(p.roles.size());
  for (const auto& r : p.roles) roles.push_back(Str(r));
  return cel::Value::Map({{K().id, Str(p.id)},
                          {K().roles, cel::Value::List(std::move(roles))},
                          {K().attr, AttrOrEmpty(p.attr)},
                          {K().policy_version, StrOrEmpty(p.policy_version)},
                          {K().scope, StrOrEmpty(NormalizeScope(p.scope))}});
}

cel::Value ResourceValue(const Resource& r) {
  return cel::Value::Map({{K().kind, Str(r.kind)},
                          {K().id, Str(r.id)},
                          {K().attr, AttrOrEmpty(r.attr)},
                          {K().policy_version, StrOrEmpty(r.policy_version)},
                          {K().scope, StrOrEmpty(NormalizeScope(r.scope))}});
}

cel::Value RuntimeValue(std::vector<std::string_view> roles) {
  std::sort(roles.begin(), roles.end());
  cel::ListValue list;
  for (auto r : roles) list.push_back(Str(r));
  return cel::Value::Map({{K().edr, cel::Value::List(std::move(list))}});
}

EvalContext::EvalContext(const PolicySet& set, const Principal& principal, const Resource& resource,
                         const DecideOptions& options, Decision& out)
    : set(set), principal(principal), resource(resource), options_(options), out_(out) {}

std::optional<bool> EvalContext::CachedCondition(int rule_id, const CompiledDerivedRole* dr) const {
  for (int i = 0; i < cache_count_; ++i) {
    if (cache_[i].rule_id == rule_id && cache_[i].dr == dr) return cache_[i].value;
  }
  return std::nullopt;
}

void EvalContext::CacheCondition(int rule_id, const CompiledDerivedRole* dr, bool value) {
  if (cache_count_ < kCacheSize) cache_[cache_count_++] = {rule_id, dr, value};
}

void EvalContext::BindRequest() {
  if (bound_) return;
  bound_ = true;
  const cel::Value p = PrincipalValue(principal);
  const cel::Value r = ResourceValue(resource);
  activation_.Bind("P", p).Bind("R", r).Bind("G", set.globals_);
  activation_.Bind("request.auxData", options_.aux_data.is_null() ? cel::Value::Map({}) : options_.aux_data);
  activation_.set_now(options_.now);
  activation_.set_oracle(options_.oracle);
  activation_.set_max_cost(options_.max_eval_cost);
}

const cel::Value& EvalContext::Runtime() {
  if (current_ < 0) {
    if (empty_runtime_.is_null()) empty_runtime_ = RuntimeValue({});
    return empty_runtime_;
  }
  ScopeRoles& s = scopes_[current_];
  if (!s.runtime_built) {
    ComputeRoles(s);
    std::vector<std::string_view> names;
    if (s.policy != nullptr) {
      for (size_t i = 0; i < s.policy->derived_roles.size(); ++i) {
        if (s.mask & (uint64_t{1} << i)) names.push_back(s.policy->derived_roles[i]->name);
      }
    }
    s.runtime = RuntimeValue(std::move(names));
    s.runtime_built = true;
  }
  return s.runtime;
}

cel::Value EvalContext::Run(const cel::Program& program, const cel::Value& constants, bool uses_runtime) {
  BindRequest();
  activation_.Bind("C", constants);
  if (uses_runtime) activation_.Bind("runtime", Runtime());
  return cel::Evaluate(program, activation_);
}

bool EvalContext::Holds(const CompiledMatch& match, const cel::Value& constants, std::string_view scope) {
  switch (match.op) {
    case MatchNode::Op::kExpr: {
      if (!match.program) return false;
      const cel::Value v = Run(*match.program, constants, match.uses_runtime);
      return v.kind() == cel::Kind::kBool && v.bool_value();
    }
    case MatchNode::Op::kAll:
      for (const auto& c : match.children) {
        if (!Holds(c, constants, scope)) return false;
      }
      return true;
    case MatchNode::Op::kAny:
      for (const auto& c : match.children) {
        if (Holds(c, constants, scope)) return true;
      }
      return false;
    case MatchNode::Op::kNone:
      for (const auto& c : match.children) {
        if (Holds(c, constants, scope)) return false;
      }
      return true;
  }
  return false;
}

cel::Value EvalContext::Eval(const cel::Program& program, const cel::Value& constants, std::string_view) {
  const auto& refs = program.referenced_variables();
  const bool uses_runtime = std::find(refs.begin(), refs.end(), "runtime") != refs.end();
  return Run(program, constants, uses_runtime);
}

void EvalContext::EnterResourceScope(std::string_view scope, std::string_view version) {
  for (int i = 0; i < scope_count_; ++i) {
    if (scopes_[i].scope == scope) {
      current_ = i;
      return;
    }
  }
  if (scope_count_ == kMaxScopes) return;
  ScopeRoles& entry = scopes_[scope_count_];
  entry.scope = scope;
  entry.policy = set.FindResourcePolicy(resource.kind, version, scope);
  current_ = scope_count_++;
}

// Which of the scope's derived roles hold. Deferred until something reads them, because a role
// decision should not pay for derived-role conditions it never consults.
void EvalContext::ComputeRoles(ScopeRoles& entry) {
  if (entry.computed) return;
  entry.computed = true;
  if (entry.policy == nullptr) return;
  const auto& drs = entry.policy->derived_roles;
  for (size_t i = 0; i < drs.size() && i < 64; ++i) {
    const CompiledDerivedRole& dr = *drs[i];
    bool parent = false;
    for (const auto& pr : dr.parent_roles) {
      if (pr == "*") {
        parent = true;
        break;
      }
      for (const auto& role : principal.roles) parent = parent || role == pr;
    }
    if (!parent) continue;
    if (dr.condition == nullptr || Holds(*dr.condition, dr.constants, entry.scope)) entry.mask |= uint64_t{1} << i;
  }
}

void EvalContext::FinishDerivedRoles() {
  if (!options_.effective_derived_roles) return;
  auto& v = out_.effective_derived_roles;
  for (int i = 0; i < scope_count_; ++i) {
    ScopeRoles& s = scopes_[i];
    ComputeRoles(s);
    if (s.policy == nullptr) continue;
    for (size_t k = 0; k < s.policy->derived_roles.size() && k < 64; ++k) {
      if (s.mask & (uint64_t{1} << k)) v.push_back(s.policy->derived_roles[k]->name);
    }
  }
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace warden::policy::internal
