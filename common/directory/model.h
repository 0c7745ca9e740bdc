// Model: a validated, compiled manifest; what checks, lookups and writes consult.
//
// Type, relation and permission names are interned as Symbols in the Interner shared by a
// snapshot lineage, so the index stores small integers and a manifest change keeps the meaning
// of every stored relation. A Model is immutable and safe to share across threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/directory/interner.h"
#include "common/directory/manifest_ast.h"
#include "common/util/status.h"

namespace warden::directory {

using Symbol = uint16_t;  // an interned type/relation/permission name; 0 is "none"

struct Expr {
  ExprAst::Kind kind = ExprAst::Kind::kRef;
  Symbol name = 0;    // kRef: member on the same object; kArrow: the relation followed
  Symbol target = 0;  // kArrow: member computed on each object reached
  std::vector<Expr> children;
};

struct AllowedSubject {
  Symbol type = 0;
  Symbol relation = 0;  // non-zero for a userset such as group#member
  bool wildcard = false;
};

struct MemberDef {
  enum class Kind { kRelation, kPermission };
  Kind kind = Kind::kRelation;
  Symbol name = 0;
  std::vector<AllowedSubject> allowed;  // relations
  Expr expr;                            // permissions
  // True when evaluating this member never meets an intersection or exclusion, here or in
  // anything it reaches; lookups then need no per-candidate check.
  bool union_only = true;
};

struct TypeDef {
  Symbol name = 0;
  std::vector<MemberDef> members;
  std::vector<int32_t> member_index;  // by Symbol; -1 when the type has no such member
};

// An arrow `tupleset->target` in a permission of `type`, indexed by target for reverse walks.
struct ArrowUse {
  Symbol type = 0;
  Symbol tupleset = 0;
  Symbol permission = 0;
};

class Model {
 public:
  // Validates and compiles a parsed manifest. Errors (InvalidArgument, "<file>:<line>:<col>:
  // <reason>"): a duplicate type or member, a name used as both relation and permission, an
  // unknown subject type or subject relation, an unknown name in an expression, an arrow over a
  // permission or to a member that none of the relation's types has, a permission that refers to
  // itself with no relation in between.
  static Result<std::shared_ptr<const Model>> Compile(const ManifestAst& ast, Interner& symbols);

  // Topaz's built-in model, used when a directory has no manifest: user (manager: user),
  // group (member: user | group#member), identity (identifier: user), application (user: user),
  // resource.
  static std::shared_ptr<const Model> BuiltIn(Interner& symbols);

  // The symbol of a name this model uses, or nullopt. Lock-free.
  std::optional<Symbol> FindSymbol(std::string_view name) const;
  std::string_view Name(Symbol s) const { return symbols_->Str(s); }

  const TypeDef* Type(Symbol type) const {
    if (type >= type_index_.size() || type_index_[type] < 0) return nullptr;
    return &types_[type_index_[type]];
  }
  const MemberDef* Member(Symbol type, Symbol name) const {
    const TypeDef* t = Type(type);
    if (t == nullptr || name >= t->member_index.size() || t->member_index[name] < 0) return nullptr;
    return &t->members[t->member_index[name]];
  }
  const std::vector<TypeDef>& types() const { return types_; }

  // Whether the manifest allows storing `object_type#relation@subject_type[#subject_relation]`
  // (or `subject_type:*` when `wildcard`). Not ok: InvalidArgument naming what is not allowed
  // and listing what is.
  Status ValidateRelation(Symbol object_type, Symbol relation, Symbol subject_type, Symbol subject_relation,
                          bool wildcard) const;

  // Permissions on `type` whose expression names `member` directly (not through an arrow).
  const std::vector<Symbol>& PermissionsUsing(Symbol type, Symbol member) const;
  // Arrows, anywhere in the model, whose target is `member`.
  const std::vector<ArrowUse>& ArrowsTo(Symbol member) const;

  // The allowed subjects of a relation in manifest syntax, e.g. "user | group#member".
  std::string DescribeAllowed(const MemberDef& relation) const;

 private:
  Interner* symbols_ = nullptr;
  std::vector<TypeDef> types_;
  std::vector<int32_t> type_index_;  // by Symbol
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Symbol, NameHash, std::equal_to<>> symbol_by_name_;
  std::unordered_map<uint32_t, std::vector<Symbol>> permissions_using_;  // key: type << 16 | member
  std::unordered_map<Symbol, std::vector<ArrowUse>> arrows_to_;
};

}  // namespace warden::directory
