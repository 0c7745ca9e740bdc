// PolicySet::ActionsOf: the action names a kind's rules spell out, for searches that must
// enumerate what could be allowed (AuthZEN action search).
#include <algorithm>

#include "common/policy/policy_set.h"

namespace warden::policy {

std::vector<std::string> PolicySet::ActionsOf(std::string_view kind) const {
  std::vector<std::string> actions;
  auto add_literal_actions = [&](const CompiledRule& rule) {
    for (const auto& action : rule.actions) {
      // A glob names no action in particular; only the names written out can be enumerated.
      if (action.find('*') == std::string::npos) actions.push_back(action);
    }
  };
  for (const auto& policy : policies_) {
    if (policy->kind == PolicyDoc::Kind::kResource) {
      if (policy->name != kind && !(policy->name.find('*') != std::string::npos && GlobMatch(policy->name, kind))) {
        continue;
      }
      for (const auto& rule : policy->rules) add_literal_actions(*rule);
    } else {
      for (const auto& rule : policy->rules) {
        if (GlobMatch(rule->resource, kind)) add_literal_actions(*rule);
      }
    }
  }
  std::sort(actions.begin(), actions.end());
  actions.erase(std::unique(actions.begin(), actions.end()), actions.end());
  return actions;
}

}  // namespace warden::policy
