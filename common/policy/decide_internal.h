// Per-request evaluation state shared by Decide and Plan. Internal to common/policy.
#pragma once

#include <array>
#include <optional>
#include <string_view>

#include "common/cel/activation.h"
#include "common/policy/compiled.h"
#include "common/policy/request.h"

namespace warden::policy {
class PolicySet;
}

namespace warden::policy::internal {

constexpr int kMaxScopes = 32;

// "." and "" are the root scope; ".a.b" is "a.b".
std::string_view NormalizeScope(std::string_view scope);

// The scopes a request walks: the requested one (if any policy uses it) and then each ancestor
// that some policy uses, most specific first. Views into the request's scope string.
struct ScopeChain {
  std::array<std::string_view, kMaxScopes> items{};
  int n = 0;
  void Build(const StringMap<bool>& known, std::string_view scope);
};

// Everything one Decide call evaluates conditions with. The CEL bindings for the principal and
// resource are built on first use, so a decision that meets no condition allocates nothing.
class EvalContext {
 public:
  EvalContext(const PolicySet& set, const Principal& principal, const Resource& resource,
              const DecideOptions& options, Decision& out);

  const PolicySet& set;
  const Principal& principal;
  const Resource& resource;

  // Condition results already known in this request, keyed by (rule, derived role).
  std::optional<bool> CachedCondition(int rule_id, const CompiledDerivedRole* dr) const;
  void CacheCondition(int rule_id, const CompiledDerivedRole* dr, bool value);

  // Whether `match` holds: an expression holds when it evaluates to true; errors and non-bool
  // results do not hold (Cerbos without strictEvaluation).
  bool Holds(const CompiledMatch& match, const cel::Value& constants, std::string_view scope);
  // Evaluates an output expression.
  cel::Value Eval(const cel::Program& program, const cel::Value& constants, std::string_view scope);

  // Makes `scope` the current resource scope: computes (once per scope) which derived roles of
  // the resource policy there hold, which runtime.effectiveDerivedRoles then reports.
  void EnterResourceScope(std::string_view scope, std::string_view version);
  // Sorts and deduplicates Decision::effective_derived_roles.
  void FinishDerivedRoles();

 private:
  struct ScopeRoles {
    std::string_view scope;
    const CompiledPolicy* policy = nullptr;
    bool computed = false;
    uint64_t mask = 0;
    bool runtime_built = false;
    cel::Value runtime;
  };
  void BindRequest();
  void ComputeRoles(ScopeRoles& s);
  const cel::Value& Runtime();
  cel::Value Run(const cel::Program& program, const cel::Value& constants, bool uses_runtime);

  const DecideOptions& options_;
  Decision& out_;
  cel::Activation activation_;
  bool bound_ = false;
  std::array<ScopeRoles, kMaxScopes> scopes_{};
  int scope_count_ = 0;
  int current_ = -1;
  cel::Value empty_runtime_;
  struct CacheEntry {
    int rule_id;
    const CompiledDerivedRole* dr;
    bool value;
  };
  static constexpr int kCacheSize = 64;
  std::array<CacheEntry, kCacheSize> cache_{};
  int cache_count_ = 0;
};

}  // namespace warden::policy::internal
