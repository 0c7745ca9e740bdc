// Document model: Cerbos policy documents as read from YAML/JSON, before compilation.
//
// Parsing (ParseDocuments) checks shape: known fields, types, required fields, enum values. It
// knows nothing of other documents; cross-document checks (imports, duplicates, CEL) happen when
// a PolicySet is compiled. Every element keeps the position it came from so that any later
// error can still name file, line and column.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/policy/source.h"

namespace warden::policy {

struct Position {
  int line = 0;    // 1-based; 0 unknown
  int column = 0;  // 1-based
};

// A CEL expression as written, with enough layout information to map a position inside the
// expression back into the file.
struct ExprSource {
  std::string text;
  Position pos;            // where the expression text begins in the file
  bool block = false;      // a YAML block scalar (`|`, `>`): text line k is file line pos.line + k
  int block_indent = 0;    // for block scalars: the column (1-based) where each text line starts
};

// condition.match: an expression or a combination of nested matches.
struct MatchNode {
  enum class Op { kExpr, kAll, kAny, kNone };
  Op op = Op::kExpr;
  ExprSource expr;                 // kExpr
  std::vector<MatchNode> children;  // kAll / kAny / kNone
  Position pos;
};

struct OutputSpec {
  std::optional<ExprSource> rule_activated;   // output.when.ruleActivated, or the older output.expr
  std::optional<ExprSource> condition_not_met;  // output.when.conditionNotMet
};

enum class Effect { kAllow, kDeny };

enum class ScopePermissions { kUnspecified, kOverrideParent, kRequireParentalConsentForAllows };

struct NamedExpr {
  std::string name;
  ExprSource expr;
  Position pos;
};

// `variables` and `constants` sections: local definitions and imports by name.
struct Definitions {
  std::vector<std::pair<std::string, Position>> imports;
  std::vector<NamedExpr> local_variables;                       // variables.local (ordered)
  std::vector<std::pair<std::string, nlohmann::json>> local_constants;  // constants.local
  std::vector<Position> local_constant_pos;
};

struct ResourceRuleDoc {
  std::string name;
  std::vector<std::string> actions;
  std::vector<std::string> roles;
  std::vector<std::pair<std::string, Position>> derived_roles;
  Effect effect = Effect::kAllow;
  std::optional<MatchNode> condition;
  OutputSpec output;
  Position pos;
};

struct PrincipalActionDoc {
  std::string name;
  std::string action;
  Effect effect = Effect::kAllow;
  std::optional<MatchNode> condition;
  OutputSpec output;
  Position pos;
};

struct PrincipalRuleDoc {
  std::string resource;
  std::vector<PrincipalActionDoc> actions;
  Position pos;
};

struct DerivedRoleDefDoc {
  std::string name;
  std::vector<std::string> parent_roles;
  std::optional<MatchNode> condition;
  Position pos;
};

// One policy document of any kind. Fields not used by `kind` stay empty.
struct PolicyDoc {
  enum class Kind { kResource, kPrincipal, kDerivedRoles, kExportVariables, kExportConstants };
  Kind kind = Kind::kResource;
  std::string file;
  Position pos;  // the kind key (resourcePolicy:, ...)
  bool disabled = false;

  // resourcePolicy / principalPolicy
  std::string name;  // resource kind, principal id, derived roles / export set name
  std::string version;
  std::string scope;
  ScopePermissions scope_permissions = ScopePermissions::kUnspecified;
  std::vector<std::pair<std::string, Position>> import_derived_roles;
  std::vector<ResourceRuleDoc> resource_rules;
  std::vector<PrincipalRuleDoc> principal_rules;
  // derivedRoles
  std::vector<DerivedRoleDefDoc> definitions;
  // exportVariables
  std::vector<NamedExpr> exported_variables;
  // exportConstants
  std::vector<std::pair<std::string, nlohmann::json>> exported_constants;

  Definitions variables;
  Definitions constants;
  // The deprecated top-level `variables:` map (name -> expression), merged as local variables.
};

// Parses every YAML document in `source`. Shape errors are appended to `errors` (parsing goes on
// past them to report as many as possible); documents with errors are still returned so that
// later checks can add theirs, but a caller must treat a non-empty `errors` as failure.
std::vector<PolicyDoc> ParseDocuments(const SourceDocument& source, std::vector<LoadError>& errors);

}  // namespace warden::policy
