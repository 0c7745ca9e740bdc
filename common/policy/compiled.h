// The compiled form of a policy set: what Decide and Plan walk. Internal to common/policy.
//
// Everything here is built once by Compile and never changes; pointers between the pieces stay
// valid for the life of the owning PolicySet.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/cel/program.h"
#include "common/cel/value.h"
#include "common/policy/document.h"

namespace warden::policy {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// A compiled condition.match tree. For kExpr, `program` is the rewritten expression (see
// expr_rewrite.h) and `source` the text as written.
struct CompiledMatch {
  MatchNode::Op op = MatchNode::Op::kExpr;
  std::shared_ptr<const cel::Program> program;
  std::string source;
  bool uses_runtime = false;  // reads runtime.effectiveDerivedRoles
  std::vector<CompiledMatch> children;
};

struct CompiledPolicy;

struct CompiledDerivedRole {
  std::string name;
  std::string set_name;  // the derivedRoles document it came from
  std::vector<std::string> parent_roles;
  std::unique_ptr<CompiledMatch> condition;  // null: always holds
  cel::Value constants;                      // C as the condition sees it
};

struct CompiledRule {
  std::string name;
  std::string src;   // "resource.asset.vdefault/acme#rule", Cerbos's output src
  std::string file;  // where it was written
  int line = 0;
  int id = 0;  // unique within the set; the per-decision condition cache key
  std::vector<std::string> actions;   // glob patterns
  std::vector<std::string> roles;     // glob patterns; principal rules use {"*"}
  std::string resource;               // principal rules: the resource glob
  std::vector<const CompiledDerivedRole*> derived_roles;
  Effect effect = Effect::kAllow;
  std::unique_ptr<CompiledMatch> condition;  // null: always holds
  std::shared_ptr<const cel::Program> output_activated;
  std::shared_ptr<const cel::Program> output_not_met;
  const CompiledPolicy* policy = nullptr;
};

struct CompiledPolicy {
  PolicyDoc::Kind kind = PolicyDoc::Kind::kResource;
  std::string name;  // resource kind or principal id
  std::string version;
  std::string scope;
  ScopePermissions scope_permissions = ScopePermissions::kOverrideParent;
  std::string key;  // "resource.expense.vdefault/acme"
  std::string file;
  std::vector<std::unique_ptr<CompiledRule>> rules;
  // Resource policies: the derived roles imported, sorted by name.
  std::vector<const CompiledDerivedRole*> derived_roles;
  cel::Value constants;
};

// Cerbos's action/resource/role globs: '*' matches within a ':'-separated segment, "**" across
// segments, and a lone "*" matches everything.
bool GlobMatch(std::string_view pattern, std::string_view value);

}  // namespace warden::policy
