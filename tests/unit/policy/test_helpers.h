// Shared helpers for the policy unit tests.
#pragma once

// GCC 12 reports a false -Wrestrict inside std::string concatenation at -O3 (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#endif

#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "common/cel/value.h"
#include "common/policy/policy_set.h"

namespace warden::policy::testing {

// Compiles the given (path, text) documents; fails the test when they do not compile.
inline std::shared_ptr<const PolicySet> MustCompile(const std::vector<SourceDocument>& docs) {
  std::vector<LoadError> errors;
  auto set = PolicySet::Compile(docs, {}, &errors);
  INFO(set.status().message());
  REQUIRE(set.ok());
  return *set;
}

// The errors compiling `docs` produces (empty if it compiled).
inline std::vector<LoadError> CompileErrors(const std::vector<SourceDocument>& docs) {
  std::vector<LoadError> errors;
  auto set = PolicySet::Compile(docs, {}, &errors);
  if (set.ok()) return {};
  return errors;
}

inline Principal MakePrincipal(std::string id, std::vector<std::string> roles, const nlohmann::json& attr = nlohmann::json::object()) {
  Principal p;
  p.id = std::move(id);
  p.roles = std::move(roles);
  p.attr = cel::FromJson(attr);
  return p;
}

inline Resource MakeResource(std::string kind, std::string id, const nlohmann::json& attr = nlohmann::json::object()) {
  Resource r;
  r.kind = std::move(kind);
  r.id = std::move(id);
  r.attr = cel::FromJson(attr);
  return r;
}

// The effect of one action as "ALLOW" / "DENY", for readable assertions.
inline std::string EffectOf(const PolicySet& set, const Principal& p, const Resource& r, const std::string& action) {
  std::vector<std::string> actions = {action};
  Decision d = set.Decide(p, r, actions);
  return d.actions.at(0).effect == Effect::kAllow ? "ALLOW" : "DENY";
}

}  // namespace warden::policy::testing
