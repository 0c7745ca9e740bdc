// PolicySet::Compile: documents -> the compiled, indexed form, with every error reported.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "common/cel/value.h"
#include "common/policy/expr_rewrite.h"
#include "common/policy/policy_set.h"

namespace warden::policy {

namespace {

// Names conditions may read as written (checked first, so that errors point into the original
// text) and after rewriting (what is evaluated).
const std::vector<std::string>& SourceVariables() {
  static const std::vector<std::string> v = {"request.principal", "request.resource", "request.auxData", "R", "P",
                                             "V", "variables", "C", "constants", "G", "globals", "runtime"};
  return v;
}
const std::vector<std::string>& RuntimeVariables() {
  static const std::vector<std::string> v = {"R", "P", "C", "G", "runtime", "request.auxData"};
  return v;
}

std::string PolicyKey(PolicyDoc::Kind kind, std::string_view name, std::string_view version, std::string_view scope) {
  std::string key = kind == PolicyDoc::Kind::kPrincipal ? "principal." : "resource.";
  key += name;
  key += ".v";
  key += version;
  if (!scope.empty()) {
    key += "/";
    key += scope;
  }
  return key;
}

// Offsets into an expression -> file positions.
Position MapPosition(const ExprSource& e, int line, int column) {
  if (e.pos.line == 0) return {};
  if (line <= 1) return {e.pos.line, e.pos.column + column - 1};
  if (e.block) return {e.pos.line + line - 1, e.block_indent + column - 1};
  return {e.pos.line + line - 1, column};
}

Position OffsetPosition(const ExprSource& e, size_t offset) {
  int line = 1, col = 1;
  for (size_t i = 0; i < offset && i < e.text.size(); ++i) {
    if (e.text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return MapPosition(e, line, col);
}

}  // namespace

class SetCompiler {
 public:
  SetCompiler(const CompileSetOptions& options, std::vector<LoadError>& errors) : options_(options), errors_(errors) {}

  std::shared_ptr<const PolicySet> Run(const std::vector<SourceDocument>& sources) {
    for (const auto& src : sources) {
      auto parsed = ParseDocuments(src, errors_);
      for (auto& d : parsed) {
        if (!d.disabled) docs_.push_back(std::move(d));
      }
    }
    set_.reset(new PolicySet());
    set_->globals_ = options_.globals.is_null() ? cel::Value::Map({}) : options_.globals;

    IndexExports();
    for (const auto& d : docs_) {
      if (d.kind == PolicyDoc::Kind::kDerivedRoles) CompileDerivedRoles(d);
    }
    for (const auto& d : docs_) {
      if (d.kind == PolicyDoc::Kind::kResource || d.kind == PolicyDoc::Kind::kPrincipal) CompilePolicy(d);
    }
    CheckAncestors();
    if (!errors_.empty()) return nullptr;
    set_->resource_attr_names_.assign(attr_names_.begin(), attr_names_.end());
    return std::shared_ptr<const PolicySet>(set_.release());
  }

 private:
  void Error(const std::string& file, Position p, std::string message) {
    errors_.push_back({file, p.line, p.column, std::move(message)});
  }

  void IndexExports() {
    for (const auto& d : docs_) {
      switch (d.kind) {
        case PolicyDoc::Kind::kDerivedRoles:
          if (!derived_role_docs_.emplace(d.name, &d).second) {
            Error(d.file, d.pos, "duplicate derivedRoles '" + d.name + "' (also defined in " +
                                     derived_role_docs_[d.name]->file + ")");
          }
          break;
        case PolicyDoc::Kind::kExportVariables:
          for (const auto& v : d.exported_variables) CheckExpr(d.file, v.expr);
          if (!export_variables_.emplace(d.name, &d).second) {
            Error(d.file, d.pos, "duplicate exportVariables '" + d.name + "' (also defined in " +
                                     export_variables_[d.name]->file + ")");
          }
          break;
        case PolicyDoc::Kind::kExportConstants:
          if (!export_constants_.emplace(d.name, &d).second) {
            Error(d.file, d.pos, "duplicate exportConstants '" + d.name + "' (also defined in " +
                                     export_constants_[d.name]->file + ")");
          }
          break;
        default:
          break;
      }
    }
  }

  // Builds C for a document: imported export sets first, then local definitions.
  cel::Value Constants(const PolicyDoc& d) {
    std::map<std::string, nlohmann::json> merged;
    for (const auto& [name, pos] : d.constants.imports) {
      auto it = export_constants_.find(name);
      if (it == export_constants_.end()) {
        Error(d.file, pos, "unknown exportConstants '" + name + "' in constants.import");
        continue;
      }
      for (const auto& [k, v] : it->second->exported_constants) {
        if (!merged.emplace(k, v).second) Error(d.file, pos, "constant '" + k + "' is defined more than once");
      }
    }
    for (size_t i = 0; i < d.constants.local_constants.size(); ++i) {
      const auto& [k, v] = d.constants.local_constants[i];
      if (!merged.emplace(k, v).second) {
        Error(d.file, d.constants.local_constant_pos[i], "constant '" + k + "' is defined more than once");
      }
    }
    nlohmann::json obj = nlohmann::json::object();
    for (auto& [k, v] : merged) obj[k] = v;
    return cel::FromJson(obj);
  }

  // The variables a document's conditions may use: imported export sets, then local ones.
  std::map<std::string, std::string> Variables(const PolicyDoc& d) {
    std::map<std::string, std::string> vars;
    for (const auto& [name, pos] : d.variables.imports) {
      auto it = export_variables_.find(name);
      if (it == export_variables_.end()) {
        Error(d.file, pos, "unknown exportVariables '" + name + "' in variables.import");
        continue;
      }
      for (const auto& v : it->second->exported_variables) {
        if (!vars.emplace(v.name, v.expr.text).second) {
          Error(d.file, pos, "variable '" + v.name + "' is defined more than once");
        }
      }
    }
    for (const auto& v : d.variables.local_variables) {
      CheckExpr(d.file, v.expr);
      if (!vars.emplace(v.name, v.expr.text).second) {
        Error(d.file, v.pos, "variable '" + v.name + "' is defined more than once");
      }
    }
    return vars;
  }

  cel::CompileOptions LimitedCompileOptions() const {
    cel::CompileOptions compile;
    compile.max_source_length = options_.expression_limits.max_length;
    compile.max_ast_depth = options_.expression_limits.max_depth;
    return compile;
  }

  // Checks that `e` compiles as written (a variable's definition, say), reporting errors at
  // their position in the file.
  bool CheckExpr(const std::string& file, const ExprSource& e) {
    cel::CompileOptions check = LimitedCompileOptions();
    check.variables = SourceVariables();
    auto checked = cel::Compile(e.text, check);
    if (!checked.ok()) ReportCelError(file, e, checked.status());
    return checked.ok();
  }

  // Checks `e` as written, then compiles its rewritten form. Null on error (reported).
  std::shared_ptr<const cel::Program> CompileExpr(const std::string& file, const ExprSource& e,
                                                  const std::map<std::string, std::string>& vars,
                                                  bool* uses_runtime = nullptr) {
    cel::CompileOptions check = LimitedCompileOptions();
    check.variables = SourceVariables();
    auto checked = cel::Compile(e.text, check);
    if (!checked.ok()) {
      ReportCelError(file, e, checked.status());
      return nullptr;
    }
    auto rewritten = RewriteCondition(e.text, [&](std::string_view name) -> std::optional<std::string> {
      auto it = vars.find(std::string(name));
      if (it == vars.end()) return std::nullopt;
      return it->second;
    }, options_.expression_limits.max_length);
    if (!rewritten.errors.empty()) {
      for (const auto& err : rewritten.errors) Error(file, OffsetPosition(e, err.offset), err.message);
      return nullptr;
    }
    cel::CompileOptions run = LimitedCompileOptions();
    run.variables = RuntimeVariables();
    auto program = cel::Compile(rewritten.text, run);
    if (!program.ok()) {
      // Variables' definitions were checked on their own, so this is rare (a variable whose text
      // only breaks in context); report it at the expression that uses it.
      Error(file, e.pos, "in expression after expanding variables: " + program.status().message());
      return nullptr;
    }
    for (auto& name : ResourceAttrNames(rewritten.text)) attr_names_.insert(std::move(name));
    if (uses_runtime != nullptr) {
      const auto& refs = (*program)->referenced_variables();
      *uses_runtime = std::find(refs.begin(), refs.end(), "runtime") != refs.end();
    }
    return *program;
  }

  void ReportCelError(const std::string& file, const ExprSource& e, const Status& status) {
    int line = 0, col = 0;
    const std::string& m = status.message();
    if (std::sscanf(m.c_str(), "%d:%d", &line, &col) == 2) {
      const size_t colon = m.find(": ");
      Error(file, MapPosition(e, line, col),
            "invalid CEL expression: " + (colon == std::string::npos ? m : m.substr(colon + 2)));
    } else {
      Error(file, e.pos, "invalid CEL expression: " + m);
    }
  }

  std::unique_ptr<CompiledMatch> CompileMatch(const std::string& file, const MatchNode& n,
                                              const std::map<std::string, std::string>& vars) {
    auto m = std::make_unique<CompiledMatch>();
    m->op = n.op;
    if (n.op == MatchNode::Op::kExpr) {
      m->source = n.expr.text;
      m->program = CompileExpr(file, n.expr, vars, &m->uses_runtime);
      return m;
    }
    for (const auto& c : n.children) {
      auto child = CompileMatch(file, c, vars);
      m->uses_runtime = m->uses_runtime || child->uses_runtime;
      m->children.push_back(std::move(*child));
    }
    return m;
  }

  std::shared_ptr<const cel::Program> CompileOutput(const std::string& file, const std::optional<ExprSource>& e,
                                                    const std::map<std::string, std::string>& vars) {
    if (!e) return nullptr;
    return CompileExpr(file, *e, vars);
  }

  void CompileDerivedRoles(const PolicyDoc& d) {
    const cel::Value constants = Constants(d);
    const auto vars = Variables(d);
    auto& defs = derived_roles_[d.name];
    std::set<std::string> seen;
    for (const auto& def : d.definitions) {
      if (!seen.insert(def.name).second) {
        Error(d.file, def.pos, "derived role '" + def.name + "' is defined more than once in '" + d.name + "'");
        continue;
      }
      auto dr = std::make_unique<CompiledDerivedRole>();
      dr->name = def.name;
      dr->set_name = d.name;
      dr->parent_roles = def.parent_roles;
      dr->constants = constants;
      if (def.condition) dr->condition = CompileMatch(d.file, *def.condition, vars);
      defs.push_back(dr.get());
      set_->derived_roles_.push_back(std::move(dr));
    }
  }

  void NoteScopePermissions(const PolicyDoc& d) {
    if (d.scope_permissions == ScopePermissions::kUnspecified) return;
    auto [it, inserted] = explicit_permissions_.emplace(d.scope, std::make_pair(d.scope_permissions, &d));
    if (!inserted && it->second.first != d.scope_permissions) {
      Error(d.file, d.pos, "scopePermissions of scope '" + d.scope + "' conflict with " + it->second.second->file +
                               " (all policies in a scope must use the same setting)");
    }
    set_->scope_permissions_[d.scope] = d.scope_permissions;
  }

  void CompilePolicy(const PolicyDoc& d) {
    const bool principal = d.kind == PolicyDoc::Kind::kPrincipal;
    auto p = std::make_unique<CompiledPolicy>();
    p->kind = d.kind;
    p->name = d.name;
    p->version = d.version;
    p->scope = d.scope;
    p->scope_permissions =
        d.scope_permissions == ScopePermissions::kUnspecified ? ScopePermissions::kOverrideParent : d.scope_permissions;
    p->key = PolicyKey(d.kind, d.name, d.version, d.scope);
    p->file = d.file;
    p->constants = Constants(d);
    const auto vars = Variables(d);
    NoteScopePermissions(d);

    auto& index = principal ? set_->principal_index_ : set_->resource_index_;
    auto& slot = index[d.name][d.version][d.scope];
    if (slot != nullptr) {
      Error(d.file, d.pos, "duplicate policy " + p->key + " (also defined in " + slot->file + ")");
      return;
    }
    slot = p.get();
    if (principal) {
      set_->principal_scopes_[d.scope] = true;
      set_->principal_version_scopes_[d.version][d.scope] = true;
    } else {
      set_->resource_scopes_[d.scope] = true;
      if (d.name.find('*') != std::string::npos) set_->glob_resource_policies_.push_back(p.get());
    }
    keys_.emplace_back(d.kind, d.name, d.version, d.scope, &d);

    // Derived roles visible to this policy, by name.
    std::map<std::string, const CompiledDerivedRole*> visible;
    for (const auto& [name, pos] : d.import_derived_roles) {
      auto it = derived_roles_.find(name);
      if (it == derived_roles_.end()) {
        Error(d.file, pos, "unknown derivedRoles '" + name + "' in importDerivedRoles");
        continue;
      }
      for (const auto* dr : it->second) {
        auto [at, inserted] = visible.emplace(dr->name, dr);
        if (!inserted && at->second != dr) {
          Error(d.file, pos, "derived role '" + dr->name + "' is defined in both '" + at->second->set_name +
                                 "' and '" + name + "'");
        }
      }
    }
    for (const auto& [name, dr] : visible) p->derived_roles.push_back(dr);
    if (p->derived_roles.size() > 64) {
      Error(d.file, d.pos, "a resource policy may import at most 64 derived roles");
    }

    std::set<std::string> rule_names;
    auto add_rule = [&](std::unique_ptr<CompiledRule> r, Position pos) {
      if (!r->name.empty() && !rule_names.insert(r->name).second) {
        Error(d.file, pos, "duplicate rule name '" + r->name + "'");
      }
      if (r->name.empty()) r->name = "rule-" + std::to_string(p->rules.size() + 1);
      r->src = p->key + "#" + r->name;
      r->file = d.file;
      r->line = pos.line;
      r->id = set_->rule_count_++;
      r->policy = p.get();
      p->rules.push_back(std::move(r));
    };

    if (!principal) {
      for (const auto& rd : d.resource_rules) {
        auto r = std::make_unique<CompiledRule>();
        r->name = rd.name;
        r->actions = rd.actions;
        r->roles = rd.roles;
        r->effect = rd.effect;
        for (const auto& [name, pos] : rd.derived_roles) {
          auto it = visible.find(name);
          if (it == visible.end()) {
            Error(d.file, pos, "unknown derived role '" + name + "' (not defined in any imported derivedRoles)");
            continue;
          }
          r->derived_roles.push_back(it->second);
        }
        if (rd.condition) r->condition = CompileMatch(d.file, *rd.condition, vars);
        r->output_activated = CompileOutput(d.file, rd.output.rule_activated, vars);
        r->output_not_met = CompileOutput(d.file, rd.output.condition_not_met, vars);
        add_rule(std::move(r), rd.pos);
      }
    } else {
      for (const auto& pr : d.principal_rules) {
        for (const auto& ad : pr.actions) {
          auto r = std::make_unique<CompiledRule>();
          r->name = ad.name;
          r->actions = {ad.action};
          r->roles = {"*"};
          r->resource = pr.resource;
          r->effect = ad.effect;
          if (ad.condition) r->condition = CompileMatch(d.file, *ad.condition, vars);
          r->output_activated = CompileOutput(d.file, ad.output.rule_activated, vars);
          r->output_not_met = CompileOutput(d.file, ad.output.condition_not_met, vars);
          add_rule(std::move(r), ad.pos);
        }
      }
    }
    set_->policies_.push_back(std::move(p));
  }

  // Cerbos requires every scoped policy's ancestors (same kind, name and version) to exist.
  void CheckAncestors() {
    for (const auto& [kind, name, version, scope, doc] : keys_) {
      std::string s = scope;
      while (!s.empty()) {
        const size_t dot = s.rfind('.');
        s = dot == std::string::npos ? std::string() : s.substr(0, dot);
        const auto& index = kind == PolicyDoc::Kind::kPrincipal ? set_->principal_index_ : set_->resource_index_;
        bool found = false;
        if (auto a = index.find(name); a != index.end()) {
          if (auto b = a->second.find(version); b != a->second.end()) found = b->second.contains(s);
        }
        if (!found) {
          Error(doc->file, doc->pos, "missing ancestor policy " + PolicyKey(kind, name, version, s) + " of scoped policy " +
                                         PolicyKey(kind, name, version, scope));
        }
      }
    }
  }

  const CompileSetOptions& options_;
  std::vector<LoadError>& errors_;
  std::vector<PolicyDoc> docs_;
  std::unique_ptr<PolicySet> set_;
  std::map<std::string, const PolicyDoc*> derived_role_docs_;
  std::map<std::string, const PolicyDoc*> export_variables_;
  std::map<std::string, const PolicyDoc*> export_constants_;
  std::map<std::string, std::vector<const CompiledDerivedRole*>> derived_roles_;
  std::map<std::string, std::pair<ScopePermissions, const PolicyDoc*>> explicit_permissions_;
  std::set<std::string> attr_names_;
  std::vector<std::tuple<PolicyDoc::Kind, std::string, std::string, std::string, const PolicyDoc*>> keys_;
};

Result<std::shared_ptr<const PolicySet>> PolicySet::Compile(const std::vector<SourceDocument>& sources,
                                                            const CompileSetOptions& options,
                                                            std::vector<LoadError>* errors) {
  std::vector<LoadError> local;
  std::vector<LoadError>& errs = errors != nullptr ? *errors : local;
  errs.clear();
  SetCompiler compiler(options, errs);
  auto set = compiler.Run(sources);
  if (!errs.empty() || set == nullptr) {
    return Status::InvalidArgument("policies do not compile (" + std::to_string(errs.size()) + " error" +
                                   (errs.size() == 1 ? "" : "s") + "):\n" + FormatLoadErrors(errs));
  }
  return set;
}

}  // namespace warden::policy
