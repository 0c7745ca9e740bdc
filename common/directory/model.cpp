#include "common/directory/model.h"

#include <algorithm>
#include <functional>
#include <set>

#include "common/directory/manifest_yaml.h"

namespace warden::directory {
namespace {

constexpr size_t kMaxSymbols = 65535;

Status At(const ManifestAst& ast, SourcePos pos, const std::string& reason) {
  return Status::InvalidArgument(FormatPos(ast.source, pos) + reason);
}

}  // namespace

std::optional<Symbol> Model::FindSymbol(std::string_view name) const {
  auto it = symbol_by_name_.find(name);
  if (it == symbol_by_name_.end()) return std::nullopt;
  return it->second;
}

const std::vector<Symbol>& Model::PermissionsUsing(Symbol type, Symbol member) const {
  static const std::vector<Symbol> kNone;
  auto it = permissions_using_.find(static_cast<uint32_t>(type) << 16 | member);
  return it == permissions_using_.end() ? kNone : it->second;
}

const std::vector<ArrowUse>& Model::ArrowsTo(Symbol member) const {
  static const std::vector<ArrowUse> kNone;
  auto it = arrows_to_.find(member);
  return it == arrows_to_.end() ? kNone : it->second;
}

std::string Model::DescribeAllowed(const MemberDef& relation) const {
  std::string out;
  for (const AllowedSubject& a : relation.allowed) {
    if (!out.empty()) out += " | ";
    out += Name(a.type);
    if (a.wildcard) out += ":*";
    if (a.relation != 0) {
      out.push_back('#');
      out.append(Name(a.relation));
    }
  }
  return out;
}

Status Model::ValidateRelation(Symbol object_type, Symbol relation, Symbol subject_type, Symbol subject_relation,
                               bool wildcard) const {
  const TypeDef* type = Type(object_type);
  if (type == nullptr) return Status::InvalidArgument("unknown object type '" + std::string(Name(object_type)) + "'");
  const MemberDef* member = Member(object_type, relation);
  if (member == nullptr) return Status::InvalidArgument("type '" + std::string(Name(object_type)) + "' has no relation '" + std::string(Name(relation)) + "'");
  if (member->kind == MemberDef::Kind::kRelation) {
    for (const AllowedSubject& a : member->allowed) {
      if (a.type != subject_type) continue;
      if (wildcard && a.wildcard) return Status::Ok();
      if (!wildcard && !a.wildcard && a.relation == subject_relation) return Status::Ok();
    }
  }
  std::string rel_name = std::string(Name(object_type)) + "#" + std::string(Name(relation));
  if (member->kind != MemberDef::Kind::kRelation) {
    return Status::InvalidArgument("'" + rel_name + "' is a permission; only relations can be written");
  }
  std::string subject = std::string(Name(subject_type));
  if (wildcard) subject += ":*";
  if (subject_relation != 0) {
    subject.push_back('#');
    subject.append(Name(subject_relation));
  }
  return Status::InvalidArgument("relation '" + rel_name + "' does not allow subject '" + subject + "' (allowed: " +
                                 DescribeAllowed(*member) + ")");
}

Result<std::shared_ptr<const Model>> Model::Compile(const ManifestAst& ast, Interner& symbols) {
  auto model = std::make_shared<Model>();
  model->symbols_ = &symbols;
  auto intern = [&](const std::string& name) -> Result<Symbol> {
    uint32_t id = symbols.Intern(name);
    if (id > kMaxSymbols) return Status::ResourceExhausted("more than 65535 distinct type and relation names");
    model->symbol_by_name_.emplace(name, static_cast<Symbol>(id));
    return static_cast<Symbol>(id);
  };

  // Pass 1: names of types and members, duplicates, relation/permission clashes.
  std::unordered_map<std::string, const TypeAst*> type_by_name;
  for (const TypeAst& t : ast.types) {
    if (!type_by_name.emplace(t.name, &t).second) return At(ast, t.pos, "type '" + t.name + "' is defined twice");
    auto sym = intern(t.name);
    if (!sym.ok()) return sym.status();
    std::unordered_map<std::string, bool> seen;  // name -> is relation
    for (const RelationAst& r : t.relations) {
      if (seen.count(r.name)) return At(ast, r.pos, "relation '" + t.name + "#" + r.name + "' is defined twice");
      seen[r.name] = true;
      if (!intern(r.name).ok()) return Status::ResourceExhausted("too many names");
    }
    for (const PermissionAst& p : t.permissions) {
      auto it = seen.find(p.name);
      if (it != seen.end()) {
        return At(ast, p.pos, it->second ? "'" + t.name + "#" + p.name + "' is used as both a relation and a permission"
                                         : "permission '" + t.name + "#" + p.name + "' is defined twice");
      }
      seen[p.name] = false;
      if (!intern(p.name).ok()) return Status::ResourceExhausted("too many names");
    }
  }
  size_t symbol_count = symbols.size();
  model->type_index_.assign(symbol_count, -1);
  for (const TypeAst& t : ast.types) {
    TypeDef def;
    def.name = model->symbol_by_name_.at(t.name);
    def.member_index.assign(symbol_count, -1);
    for (const RelationAst& r : t.relations) {
      MemberDef m;
      m.kind = MemberDef::Kind::kRelation;
      m.name = model->symbol_by_name_.at(r.name);
      def.member_index[m.name] = static_cast<int32_t>(def.members.size());
      def.members.push_back(std::move(m));
    }
    for (const PermissionAst& p : t.permissions) {
      MemberDef m;
      m.kind = MemberDef::Kind::kPermission;
      m.name = model->symbol_by_name_.at(p.name);
      def.member_index[m.name] = static_cast<int32_t>(def.members.size());
      def.members.push_back(std::move(m));
    }
    model->type_index_[def.name] = static_cast<int32_t>(model->types_.size());
    model->types_.push_back(std::move(def));
  }

  // Pass 2: subject types of relations and names inside expressions.
  for (size_t ti = 0; ti < ast.types.size(); ++ti) {
    const TypeAst& t = ast.types[ti];
    TypeDef& def = model->types_[ti];
    for (const RelationAst& r : t.relations) {
      MemberDef& m = def.members[def.member_index[model->symbol_by_name_.at(r.name)]];
      for (const SubjectTypeAst& s : r.allowed) {
        auto type_it = type_by_name.find(s.type);
        if (type_it == type_by_name.end()) {
          return At(ast, s.pos, "relation '" + t.name + "#" + r.name + "': unknown subject type '" + s.type + "'");
        }
        AllowedSubject a;
        a.type = model->symbol_by_name_.at(s.type);
        a.wildcard = s.wildcard;
        if (!s.relation.empty()) {
          auto rel = model->FindSymbol(s.relation);
          if (!rel || model->Member(a.type, *rel) == nullptr) {
            return At(ast, s.pos, "relation '" + t.name + "#" + r.name + "': type '" + s.type +
                                      "' has no relation or permission '" + s.relation + "'");
          }
          a.relation = *rel;
        }
        m.allowed.push_back(a);
      }
    }
    for (const PermissionAst& p : t.permissions) {
      Symbol psym = model->symbol_by_name_.at(p.name);
      MemberDef& m = def.members[def.member_index[psym]];
      std::function<Result<Expr>(const ExprAst&)> compile = [&](const ExprAst& e) -> Result<Expr> {
        Expr out;
        out.kind = e.kind;
        std::string where = "permission '" + t.name + "#" + p.name + "': ";
        if (e.kind == ExprAst::Kind::kRef) {
          auto sym = model->FindSymbol(e.name);
          if (!sym || model->Member(def.name, *sym) == nullptr) {
            return At(ast, e.pos, where + "type '" + t.name + "' has no relation or permission '" + e.name + "'");
          }
          out.name = *sym;
          model->permissions_using_[static_cast<uint32_t>(def.name) << 16 | out.name].push_back(psym);
          return out;
        }
        if (e.kind == ExprAst::Kind::kArrow) {
          auto sym = model->FindSymbol(e.name);
          const MemberDef* tupleset = sym ? model->Member(def.name, *sym) : nullptr;
          if (tupleset == nullptr) {
            return At(ast, e.pos, where + "arrow '" + e.name + "->" + e.target + "': type '" + t.name +
                                      "' has no relation '" + e.name + "'");
          }
          if (tupleset->kind != MemberDef::Kind::kRelation) {
            return At(ast, e.pos, where + "arrow '" + e.name + "->" + e.target + "': '" + e.name +
                                      "' is a permission; an arrow must follow a relation");
          }
          auto target = model->FindSymbol(e.target);
          bool found = false;
          std::string types;
          for (const AllowedSubject& a : tupleset->allowed) {
            if (!types.empty()) types += ", ";
            types += model->Name(a.type);
            if (target && model->Member(a.type, *target) != nullptr) found = true;
          }
          if (!found) {
            return At(ast, e.pos, where + "arrow '" + e.name + "->" + e.target + "': no type allowed in '" + t.name +
                                      "#" + e.name + "' (" + types + ") has a relation or permission '" + e.target + "'");
          }
          out.name = *sym;
          out.target = *target;
          model->arrows_to_[out.target].push_back({def.name, out.name, psym});
          return out;
        }
        for (const ExprAst& child : e.children) {
          auto c = compile(child);
          if (!c.ok()) return c;
          out.children.push_back(std::move(*c));
        }
        return out;
      };
      auto expr = compile(p.expr);
      if (!expr.ok()) return expr.status();
      m.expr = std::move(*expr);
    }
  }
  for (auto& [key, perms] : model->permissions_using_) {
    std::sort(perms.begin(), perms.end());
    perms.erase(std::unique(perms.begin(), perms.end()), perms.end());
  }

  // Pass 3: a permission may not reach itself through permissions of its own type alone; such a
  // definition has no base case (SpiceDB refuses it too).
  for (size_t ti = 0; ti < ast.types.size(); ++ti) {
    const TypeAst& t = ast.types[ti];
    const TypeDef& def = model->types_[ti];
    std::unordered_map<Symbol, int> state;  // 1 on the path, 2 done
    std::vector<std::string> path;
    std::function<bool(Symbol)> visit = [&](Symbol s) -> bool {
      const MemberDef* m = model->Member(def.name, s);
      if (m->kind != MemberDef::Kind::kPermission) return false;
      int& st = state[s];
      if (st == 2) return false;
      if (st == 1) {
        path.emplace_back(model->Name(s));
        return true;
      }
      st = 1;
      path.emplace_back(model->Name(s));
      std::vector<const Expr*> stack{&m->expr};
      while (!stack.empty()) {
        const Expr* e = stack.back();
        stack.pop_back();
        if (e->kind == ExprAst::Kind::kRef) {
          if (visit(e->name)) return true;
        }
        for (const Expr& c : e->children) stack.push_back(&c);
      }
      path.pop_back();
      state[s] = 2;
      return false;
    };
    for (const PermissionAst& p : t.permissions) {
      path.clear();
      if (visit(model->symbol_by_name_.at(p.name))) {
        std::string chain;
        for (const std::string& step : path) chain += (chain.empty() ? "" : " -> ") + step;
        return At(ast, p.pos, "permission '" + t.name + "#" + p.name + "' refers to itself with no relation in between (" +
                                  chain + ")");
      }
    }
  }

  // Pass 4: which members are union-only, as a fixpoint over references, arrows and usersets.
  bool changed = true;
  auto expr_union_only = [&](const TypeDef& def, const Expr& e, auto& self) -> bool {
    switch (e.kind) {
      case ExprAst::Kind::kRef:
        return model->Member(def.name, e.name)->union_only;
      case ExprAst::Kind::kArrow: {
        const MemberDef* tupleset = model->Member(def.name, e.name);
        for (const AllowedSubject& a : tupleset->allowed) {
          const MemberDef* target = model->Member(a.type, e.target);
          if (target != nullptr && !target->union_only) return false;
        }
        return true;
      }
      case ExprAst::Kind::kUnion:
        for (const Expr& c : e.children) {
          if (!self(def, c, self)) return false;
        }
        return true;
      default:
        return false;
    }
  };
  while (changed) {
    changed = false;
    for (TypeDef& def : model->types_) {
      for (MemberDef& m : def.members) {
        if (!m.union_only) continue;
        bool ok = true;
        if (m.kind == MemberDef::Kind::kRelation) {
          for (const AllowedSubject& a : m.allowed) {
            if (a.relation != 0 && !model->Member(a.type, a.relation)->union_only) ok = false;
          }
        } else {
          ok = expr_union_only(def, m.expr, expr_union_only);
        }
        if (!ok) {
          m.union_only = false;
          changed = true;
        }
      }
    }
  }
  return std::shared_ptr<const Model>(std::move(model));
}

std::shared_ptr<const Model> Model::BuiltIn(Interner& symbols) {
  static constexpr std::string_view kBuiltIn = R"(model:
  version: 3
types:
  user:
    relations:
      manager: user
  group:
    relations:
      member: user | group#member
  identity:
    relations:
      identifier: user
  application:
    relations:
      user: user
  resource: {}
)";
  auto ast = ParseManifestYaml(kBuiltIn, "built-in manifest");
  auto model = Compile(*ast, symbols);
  return *model;
}

}  // namespace warden::directory
