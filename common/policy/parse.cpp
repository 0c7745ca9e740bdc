// ParseDocuments: Cerbos policy YAML/JSON into the document model, with positions.
#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "common/policy/document.h"
#include "common/policy/yaml_json.h"

namespace warden::policy {

std::string LoadError::ToString() const {
  std::string s = file;
  if (line > 0) {
    s += ":" + std::to_string(line) + ":" + std::to_string(column);
  }
  s += ": " + message;
  return s;
}

std::string FormatLoadErrors(const std::vector<LoadError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += "\n";
    out += e.ToString();
  }
  return out;
}

nlohmann::json YamlToJson(const YAML::Node& n, int depth) {
  if (depth > 64 || !n || n.IsNull()) return nullptr;
  if (n.IsSequence()) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& item : n) arr.push_back(YamlToJson(item, depth + 1));
    return arr;
  }
  if (n.IsMap()) {
    nlohmann::json obj = nlohmann::json::object();
    for (const auto& kv : n) obj[kv.first.Scalar()] = YamlToJson(kv.second, depth + 1);
    return obj;
  }
  const std::string& s = n.Scalar();
  if (n.Tag() != "?") return s;  // quoted or block: always a string
  if (s == "null" || s == "~" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+' || s[0] == '.')) {
    size_t used = 0;
    try {
      const long long v = std::stoll(s, &used, 10);
      if (used == s.size()) return v;
    } catch (...) {
    }
    try {
      const double d = std::stod(s, &used);
      if (used == s.size()) return d;
    } catch (...) {
    }
  }
  return s;
}

namespace {

class Reader {
 public:
  Reader(const SourceDocument& source, std::vector<LoadError>& errors)
      : source_(source), errors_(errors) {}

  Position Pos(const YAML::Node& n) const {
    const YAML::Mark m = n.Mark();
    if (m.line < 0) return {};
    return {m.line + 1, m.column + 1};
  }

  void Error(Position p, std::string message) {
    errors_.push_back({source_.path, p.line, p.column, std::move(message)});
  }
  void Error(const YAML::Node& n, std::string message) { Error(Pos(n), std::move(message)); }

  // Reports every key of `map` not in `allowed`; `where` names the enclosing element.
  void CheckKeys(const YAML::Node& map, std::initializer_list<std::string_view> allowed,
                 std::string_view where) {
    for (const auto& kv : map) {
      const std::string key = kv.first.Scalar();
      bool ok = false;
      for (auto a : allowed) ok = ok || a == key;
      if (!ok) Error(kv.first, "unknown field '" + key + "' in " + std::string(where));
    }
  }

  bool IsMap(const YAML::Node& n, std::string_view what) {
    if (n.IsMap()) return true;
    Error(n, std::string(what) + ": must be a mapping");
    return false;
  }

  // A required or optional string field. Returns nullopt when absent (after reporting it when
  // required) or of the wrong type.
  std::optional<std::string> String(const YAML::Node& map, const char* field, std::string_view where,
                                    bool required) {
    const YAML::Node n = map[field];
    if (!n) {
      if (required) Error(map, std::string(where) + ": missing required field '" + field + "'");
      return std::nullopt;
    }
    if (!n.IsScalar()) {
      Error(n, std::string(where) + "." + field + ": must be a string");
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::vector<std::string> StringList(const YAML::Node& n, std::string_view what) {
    std::vector<std::string> out;
    if (!n.IsSequence()) {
      Error(n, std::string(what) + ": must be a list of strings");
      return out;
    }
    for (const auto& item : n) {
      if (!item.IsScalar()) {
        Error(item, std::string(what) + ": must be a list of strings");
        continue;
      }
      out.push_back(item.Scalar());
    }
    return out;
  }

  std::vector<std::pair<std::string, Position>> NameList(const YAML::Node& n, std::string_view what) {
    std::vector<std::pair<std::string, Position>> out;
    if (!n.IsSequence()) {
      Error(n, std::string(what) + ": must be a list of strings");
      return out;
    }
    for (const auto& item : n) {
      if (!item.IsScalar()) {
        Error(item, std::string(what) + ": must be a list of strings");
        continue;
      }
      out.emplace_back(item.Scalar(), Pos(item));
    }
    return out;
  }

  std::optional<ExprSource> Expr(const YAML::Node& n, std::string_view what) {
    if (!n.IsScalar()) {
      Error(n, std::string(what) + ": must be a CEL expression string");
      return std::nullopt;
    }
    ExprSource e;
    e.text = n.Scalar();
    e.pos = Pos(n);
    const YAML::Mark m = n.Mark();
    if (m.pos >= 0 && static_cast<size_t>(m.pos) < source_.text.size()) {
      const char c = source_.text[m.pos];
      if (c == '|' || c == '>') {
        e.block = true;
        // The content starts on the next line; its indentation is that of the first non-empty line.
        size_t p = source_.text.find('\n', m.pos);
        int line = e.pos.line;
        while (p != std::string::npos) {
          ++p;
          ++line;
          size_t q = p;
          while (q < source_.text.size() && source_.text[q] == ' ') ++q;
          if (q < source_.text.size() && source_.text[q] != '\n') {
            e.pos = {line, static_cast<int>(q - p) + 1};
            e.block_indent = static_cast<int>(q - p) + 1;
            break;
          }
          p = source_.text.find('\n', p);
        }
      } else if (c == '"' || c == '\'') {
        e.pos.column += 1;
      }
    }
    return e;
  }

  Effect ParseEffect(const YAML::Node& map, std::string_view where) {
    auto s = String(map, "effect", where, true);
    if (!s) return Effect::kDeny;
    if (*s == "EFFECT_ALLOW") return Effect::kAllow;
    if (*s == "EFFECT_DENY") return Effect::kDeny;
    Error(map["effect"], std::string(where) + ".effect: must be EFFECT_ALLOW or EFFECT_DENY, got '" + *s + "'");
    return Effect::kDeny;
  }

  std::optional<MatchNode> Match(const YAML::Node& n, std::string_view where, int depth = 0) {
    if (depth > 32) {
      Error(n, std::string(where) + ": match nesting deeper than 32 levels");
      return std::nullopt;
    }
    if (!IsMap(n, where)) return std::nullopt;
    CheckKeys(n, {"expr", "all", "any", "none"}, where);
    if (n.size() != 1) {
      Error(n, std::string(where) + ": must have exactly one of expr, all, any, none");
      return std::nullopt;
    }
    MatchNode node;
    node.pos = Pos(n);
    if (n["expr"]) {
      auto e = Expr(n["expr"], std::string(where) + ".expr");
      if (!e) return std::nullopt;
      node.op = MatchNode::Op::kExpr;
      node.expr = std::move(*e);
      return node;
    }
    const char* key = n["all"] ? "all" : n["any"] ? "any" : n["none"] ? "none" : nullptr;
    if (key == nullptr) return std::nullopt;  // unknown key already reported
    node.op = key[1] == 'l' ? MatchNode::Op::kAll : key[1] == 'n' ? MatchNode::Op::kAny : MatchNode::Op::kNone;
    const std::string sub = std::string(where) + "." + key;
    const YAML::Node block = n[key];
    if (!IsMap(block, sub)) return std::nullopt;
    CheckKeys(block, {"of"}, sub);
    const YAML::Node of = block["of"];
    if (!of || !of.IsSequence() || of.size() == 0) {
      Error(of ? of : block, sub + ".of: must be a non-empty list of matches");
      return std::nullopt;
    }
    for (size_t i = 0; i < of.size(); ++i) {
      auto child = Match(of[i], sub + ".of[" + std::to_string(i) + "]", depth + 1);
      if (child) node.children.push_back(std::move(*child));
    }
    return node;
  }

  std::optional<MatchNode> Condition(const YAML::Node& rule, std::string_view where) {
    const YAML::Node c = rule["condition"];
    if (!c) return std::nullopt;
    const std::string w = std::string(where) + ".condition";
    if (!IsMap(c, w)) return std::nullopt;
    CheckKeys(c, {"match"}, w);
    if (!c["match"]) {
      Error(c, w + ": missing required field 'match'");
      return std::nullopt;
    }
    return Match(c["match"], w + ".match");
  }

  OutputSpec Output(const YAML::Node& rule, std::string_view where) {
    OutputSpec out;
    const YAML::Node o = rule["output"];
    if (!o) return out;
    const std::string w = std::string(where) + ".output";
    if (!IsMap(o, w)) return out;
    CheckKeys(o, {"expr", "when"}, w);
    if (o["expr"]) out.rule_activated = Expr(o["expr"], w + ".expr");
    if (o["when"]) {
      const YAML::Node when = o["when"];
      if (IsMap(when, w + ".when")) {
        CheckKeys(when, {"ruleActivated", "conditionNotMet"}, w + ".when");
        if (when["ruleActivated"]) out.rule_activated = Expr(when["ruleActivated"], w + ".when.ruleActivated");
        if (when["conditionNotMet"]) {
          out.condition_not_met = Expr(when["conditionNotMet"], w + ".when.conditionNotMet");
        }
      }
    }
    return out;
  }

  nlohmann::json ToJson(const YAML::Node& n) { return YamlToJson(n); }

  void Definitions(const YAML::Node& n, std::string_view where, bool variables, policy::Definitions& out) {
    if (!IsMap(n, where)) return;
    CheckKeys(n, {"import", "local"}, where);
    if (n["import"]) out.imports = NameList(n["import"], std::string(where) + ".import");
    if (n["local"]) {
      const YAML::Node local = n["local"];
      const std::string w = std::string(where) + ".local";
      if (!IsMap(local, w)) return;
      for (const auto& kv : local) {
        const std::string name = kv.first.Scalar();
        if (variables) {
          auto e = Expr(kv.second, w + "." + name);
          if (e) out.local_variables.push_back({name, std::move(*e), Pos(kv.first)});
        } else {
          out.local_constants.emplace_back(name, ToJson(kv.second));
          out.local_constant_pos.push_back(Pos(kv.first));
        }
      }
    }
  }

  std::optional<std::string> Version(const YAML::Node& map, std::string_view where) {
    auto v = String(map, "version", where, true);
    if (v && v->empty()) {
      Error(map["version"], std::string(where) + ".version: must not be empty");
    }
    return v;
  }

  ScopePermissions ParseScopePermissions(const YAML::Node& map, std::string_view where) {
    auto s = String(map, "scopePermissions", where, false);
    if (!s) return ScopePermissions::kUnspecified;
    if (*s == "SCOPE_PERMISSIONS_OVERRIDE_PARENT") return ScopePermissions::kOverrideParent;
    if (*s == "SCOPE_PERMISSIONS_REQUIRE_PARENTAL_CONSENT_FOR_ALLOWS") {
      return ScopePermissions::kRequireParentalConsentForAllows;
    }
    if (*s == "SCOPE_PERMISSIONS_UNSPECIFIED") return ScopePermissions::kUnspecified;
    Error(map["scopePermissions"], std::string(where) +
                                       ".scopePermissions: must be SCOPE_PERMISSIONS_OVERRIDE_PARENT or "
                                       "SCOPE_PERMISSIONS_REQUIRE_PARENTAL_CONSENT_FOR_ALLOWS, got '" + *s + "'");
    return ScopePermissions::kUnspecified;
  }

  void ScopeField(const YAML::Node& map, std::string_view where, PolicyDoc& doc) {
    if (auto s = String(map, "scope", where, false)) {
      doc.scope = *s;
      if (!doc.scope.empty()) {
        // Cerbos scopes are dot-separated segments of letters, digits, '_' and '-'.
        bool ok = doc.scope.front() != '.' && doc.scope.back() != '.' && doc.scope.find("..") == std::string::npos;
        for (char c : doc.scope) {
          ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
        }
        if (!ok) Error(map["scope"], std::string(where) + ".scope: '" + doc.scope + "' is not a valid scope (dot-separated names)");
        // A decision walks a scope chain of fixed capacity (root plus 31 levels).
        if (std::count(doc.scope.begin(), doc.scope.end(), '.') >= 31) {
          Error(map["scope"], std::string(where) + ".scope: deeper than 31 levels");
        }
      }
    }
  }

  void ResourcePolicy(const YAML::Node& n, PolicyDoc& doc) {
    const std::string where = "resourcePolicy";
    CheckKeys(n, {"resource", "version", "scope", "scopePermissions", "importDerivedRoles", "rules", "schemas",
                  "variables", "constants"},
              where);
    if (auto r = String(n, "resource", where, true)) {
      doc.name = *r;
      if (r->empty()) Error(n["resource"], where + ".resource: must not be empty");
    }
    if (auto v = Version(n, where)) doc.version = *v;
    ScopeField(n, where, doc);
    doc.scope_permissions = ParseScopePermissions(n, where);
    if (n["importDerivedRoles"]) doc.import_derived_roles = NameList(n["importDerivedRoles"], where + ".importDerivedRoles");
    if (n["variables"]) Definitions(n["variables"], where + ".variables", true, doc.variables);
    if (n["constants"]) Definitions(n["constants"], where + ".constants", false, doc.constants);
    const YAML::Node rules = n["rules"];
    if (!rules) return;  // a policy without rules is allowed (an inheriting scope)
    if (!rules.IsSequence()) {
      Error(rules, where + ".rules: must be a list");
      return;
    }
    for (size_t i = 0; i < rules.size(); ++i) {
      const YAML::Node r = rules[i];
      const std::string w = where + ".rules[" + std::to_string(i) + "]";
      if (!IsMap(r, w)) continue;
      CheckKeys(r, {"name", "actions", "effect", "roles", "derivedRoles", "condition", "output"}, w);
      ResourceRuleDoc rule;
      rule.pos = Pos(r);
      if (auto name = String(r, "name", w, false)) rule.name = *name;
      if (!r["actions"]) {
        Error(r, w + ": missing required field 'actions'");
      } else {
        rule.actions = StringList(r["actions"], w + ".actions");
        if (rule.actions.empty() && r["actions"].IsSequence()) Error(r["actions"], w + ".actions: must not be empty");
      }
      rule.effect = ParseEffect(r, w);
      if (r["roles"]) rule.roles = StringList(r["roles"], w + ".roles");
      if (r["derivedRoles"]) rule.derived_roles = NameList(r["derivedRoles"], w + ".derivedRoles");
      if (rule.roles.empty() && rule.derived_roles.empty()) {
        Error(r, w + ": needs at least one of roles or derivedRoles");
      }
      rule.condition = Condition(r, w);
      rule.output = Output(r, w);
      doc.resource_rules.push_back(std::move(rule));
    }
  }

  void PrincipalPolicy(const YAML::Node& n, PolicyDoc& doc) {
    const std::string where = "principalPolicy";
    CheckKeys(n, {"principal", "version", "scope", "scopePermissions", "rules", "variables", "constants"}, where);
    if (auto p = String(n, "principal", where, true)) {
      doc.name = *p;
      if (p->empty()) Error(n["principal"], where + ".principal: must not be empty");
    }
    if (auto v = Version(n, where)) doc.version = *v;
    ScopeField(n, where, doc);
    doc.scope_permissions = ParseScopePermissions(n, where);
    if (n["variables"]) Definitions(n["variables"], where + ".variables", true, doc.variables);
    if (n["constants"]) Definitions(n["constants"], where + ".constants", false, doc.constants);
    const YAML::Node rules = n["rules"];
    if (!rules) return;
    if (!rules.IsSequence()) {
      Error(rules, where + ".rules: must be a list");
      return;
    }
    for (size_t i = 0; i < rules.size(); ++i) {
      const YAML::Node r = rules[i];
      const std::string w = where + ".rules[" + std::to_string(i) + "]";
      if (!IsMap(r, w)) continue;
      CheckKeys(r, {"resource", "actions"}, w);
      PrincipalRuleDoc rule;
      rule.pos = Pos(r);
      if (auto res = String(r, "resource", w, true)) rule.resource = *res;
      const YAML::Node actions = r["actions"];
      if (!actions || !actions.IsSequence() || actions.size() == 0) {
        Error(actions ? actions : r, w + ".actions: must be a non-empty list");
        continue;
      }
      for (size_t j = 0; j < actions.size(); ++j) {
        const YAML::Node a = actions[j];
        const std::string wa = w + ".actions[" + std::to_string(j) + "]";
        if (!IsMap(a, wa)) continue;
        CheckKeys(a, {"name", "action", "effect", "condition", "output"}, wa);
        PrincipalActionDoc act;
        act.pos = Pos(a);
        if (auto name = String(a, "name", wa, false)) act.name = *name;
        if (auto action = String(a, "action", wa, true)) act.action = *action;
        act.effect = ParseEffect(a, wa);
        act.condition = Condition(a, wa);
        act.output = Output(a, wa);
        rule.actions.push_back(std::move(act));
      }
      doc.principal_rules.push_back(std::move(rule));
    }
  }

  void DerivedRoles(const YAML::Node& n, PolicyDoc& doc) {
    const std::string where = "derivedRoles";
    CheckKeys(n, {"name", "definitions", "variables", "constants"}, where);
    if (auto name = String(n, "name", where, true)) doc.name = *name;
    if (n["variables"]) Definitions(n["variables"], where + ".variables", true, doc.variables);
    if (n["constants"]) Definitions(n["constants"], where + ".constants", false, doc.constants);
    const YAML::Node defs = n["definitions"];
    if (!defs || !defs.IsSequence() || defs.size() == 0) {
      Error(defs ? defs : n, where + ".definitions: must be a non-empty list");
      return;
    }
    for (size_t i = 0; i < defs.size(); ++i) {
      const YAML::Node d = defs[i];
      const std::string w = where + ".definitions[" + std::to_string(i) + "]";
      if (!IsMap(d, w)) continue;
      CheckKeys(d, {"name", "parentRoles", "condition"}, w);
      DerivedRoleDefDoc def;
      def.pos = Pos(d);
      if (auto name = String(d, "name", w, true)) def.name = *name;
      if (!d["parentRoles"]) {
        Error(d, w + ": missing required field 'parentRoles'");
      } else {
        def.parent_roles = StringList(d["parentRoles"], w + ".parentRoles");
        if (def.parent_roles.empty() && d["parentRoles"].IsSequence()) Error(d["parentRoles"], w + ".parentRoles: must not be empty");
      }
      def.condition = Condition(d, w);
      doc.definitions.push_back(std::move(def));
    }
  }

  void ExportVariables(const YAML::Node& n, PolicyDoc& doc) {
    const std::string where = "exportVariables";
    CheckKeys(n, {"name", "definitions"}, where);
    if (auto name = String(n, "name", where, true)) doc.name = *name;
    const YAML::Node defs = n["definitions"];
    if (!defs) return;
    if (!IsMap(defs, where + ".definitions")) return;
    for (const auto& kv : defs) {
      auto e = Expr(kv.second, where + ".definitions." + kv.first.Scalar());
      if (e) doc.exported_variables.push_back({kv.first.Scalar(), std::move(*e), Pos(kv.first)});
    }
  }

  void ExportConstants(const YAML::Node& n, PolicyDoc& doc) {
    const std::string where = "exportConstants";
    CheckKeys(n, {"name", "definitions"}, where);
    if (auto name = String(n, "name", where, true)) doc.name = *name;
    const YAML::Node defs = n["definitions"];
    if (!defs) return;
    if (!IsMap(defs, where + ".definitions")) return;
    for (const auto& kv : defs) doc.exported_constants.emplace_back(kv.first.Scalar(), ToJson(kv.second));
  }

  std::optional<PolicyDoc> Document(const YAML::Node& root) {
    if (!root.IsMap()) {
      Error(root, "a policy document must be a mapping");
      return std::nullopt;
    }
    CheckKeys(root, {"apiVersion", "description", "disabled", "metadata", "variables", "resourcePolicy",
                     "principalPolicy", "derivedRoles", "exportVariables", "exportConstants", "rolePolicy", "$schema"},
              "policy document");
    auto api = String(root, "apiVersion", "policy document", true);
    if (api && *api != "api.cerbos.dev/v1") {
      Error(root["apiVersion"], "apiVersion: must be 'api.cerbos.dev/v1', got '" + *api + "'");
    }
    PolicyDoc doc;
    doc.file = source_.path;
    if (const YAML::Node d = root["disabled"]) {
      if (!d.IsScalar() || (d.Scalar() != "true" && d.Scalar() != "false")) {
        Error(d, "disabled: must be a boolean");
      } else {
        doc.disabled = d.Scalar() == "true";
      }
    }
    int kinds = 0;
    for (const char* k : {"resourcePolicy", "principalPolicy", "derivedRoles", "exportVariables", "exportConstants"}) {
      if (root[k]) ++kinds;
    }
    if (root["rolePolicy"]) {
      Error(root["rolePolicy"], "rolePolicy: role policies are not supported by Warden");
      return std::nullopt;
    }
    if (kinds != 1) {
      Error(root, "a policy document must have exactly one of resourcePolicy, principalPolicy, derivedRoles, "
                  "exportVariables, exportConstants");
      return std::nullopt;
    }
    // Errors about the whole policy point at its kind key ("resourcePolicy:").
    Position kind_pos;
    for (const auto& kv : root) {
      const std::string k = kv.first.Scalar();
      if (k == "resourcePolicy" || k == "principalPolicy" || k == "derivedRoles" || k == "exportVariables" ||
          k == "exportConstants") {
        kind_pos = Pos(kv.first);
      }
    }
    if (const YAML::Node n = root["resourcePolicy"]) {
      doc.kind = PolicyDoc::Kind::kResource;
      doc.pos = kind_pos;
      if (IsMap(n, "resourcePolicy")) ResourcePolicy(n, doc);
    } else if (const YAML::Node n = root["principalPolicy"]) {
      doc.kind = PolicyDoc::Kind::kPrincipal;
      doc.pos = kind_pos;
      if (IsMap(n, "principalPolicy")) PrincipalPolicy(n, doc);
    } else if (const YAML::Node n = root["derivedRoles"]) {
      doc.kind = PolicyDoc::Kind::kDerivedRoles;
      doc.pos = kind_pos;
      if (IsMap(n, "derivedRoles")) DerivedRoles(n, doc);
    } else if (const YAML::Node n = root["exportVariables"]) {
      doc.kind = PolicyDoc::Kind::kExportVariables;
      doc.pos = kind_pos;
      if (IsMap(n, "exportVariables")) ExportVariables(n, doc);
    } else if (const YAML::Node n = root["exportConstants"]) {
      doc.kind = PolicyDoc::Kind::kExportConstants;
      doc.pos = kind_pos;
      if (IsMap(n, "exportConstants")) ExportConstants(n, doc);
    }
    // The deprecated top-level variables map: name -> expression, treated as local variables.
    if (const YAML::Node vars = root["variables"]) {
      if (IsMap(vars, "variables")) {
        for (const auto& kv : vars) {
          auto e = Expr(kv.second, "variables." + kv.first.Scalar());
          if (e) doc.variables.local_variables.push_back({kv.first.Scalar(), std::move(*e), Pos(kv.first)});
        }
      }
    }
    return doc;
  }

 private:
  const SourceDocument& source_;
  std::vector<LoadError>& errors_;
};

// yaml-cpp 0.7's LoadAll never returns on some malformed streams (a ',' where a document should
// begin: jbeder/yaml-cpp#1040, fixed upstream only in 0.9): its parser reports an empty document
// again and again without consuming input, and LoadAll keeps them all until memory runs out.
// Walking the documents first with a handler that notes only where each begins finds that: the
// mark where a document began at the same place as the one before, or nullopt when they end.
// Parse errors throw as they would from LoadAll.
std::optional<YAML::Mark> StuckDocumentStart(const std::string& text) {
  class DocumentStarts : public YAML::EventHandler {
   public:
    void OnDocumentStart(const YAML::Mark& mark) override {
      repeated = started && mark.pos == last.pos;
      started = true;
      last = mark;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}

    bool started = false, repeated = false;
    YAML::Mark last;
  };
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  while (parser.HandleNextDocument(starts)) {
    if (starts.repeated) return starts.last;
  }
  return std::nullopt;
}

}  // namespace

std::vector<PolicyDoc> ParseDocuments(const SourceDocument& source, std::vector<LoadError>& errors) {
  std::vector<PolicyDoc> docs;
  Reader reader(source, errors);
  std::vector<YAML::Node> roots;
  try {
    if (auto stuck = StuckDocumentStart(source.text)) {
      errors.push_back({source.path, stuck->line + 1, stuck->column + 1, "syntax error: no document can begin here"});
      return docs;
    }
    roots = YAML::LoadAll(source.text);
  } catch (const YAML::Exception& e) {
    errors.push_back({source.path, e.mark.line >= 0 ? e.mark.line + 1 : 0, e.mark.column >= 0 ? e.mark.column + 1 : 0,
                      "syntax error: " + e.msg});
    return docs;
  }
  for (const auto& root : roots) {
    if (root.IsNull()) continue;  // an empty document between separators
    if (auto doc = reader.Document(root)) docs.push_back(std::move(*doc));
  }
  if (roots.empty()) errors.push_back({source.path, 0, 0, "the file holds no policy document"});
  return docs;
}

}  // namespace warden::policy
