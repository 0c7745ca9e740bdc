// ManifestAst: a directory manifest as parsed, before validation, with source positions.
//
// Both input languages (Topaz-v3-style YAML, see manifest_yaml.h, and SpiceDB's schema language,
// see schema_zed.h) parse into this one shape; CompileManifest (model.h) validates it and builds
// the model that checks run against. Positions are 1-based; 0 means unknown.
#pragma once

#include <string>
#include <vector>

namespace warden::directory {

struct SourcePos {
  int line = 0;
  int column = 0;
};

// A permission expression. Precedence (tightest first), as in SpiceDB: arrow `->`, exclusion `-`,
// intersection `&`, union `|` (also written `+`).
struct ExprAst {
  enum class Kind { kRef, kArrow, kUnion, kIntersection, kExclusion };
  Kind kind = Kind::kRef;
  std::string name;    // kRef: the relation or permission; kArrow: the relation followed (tupleset)
  std::string target;  // kArrow: the relation or permission computed on each object reached
  std::vector<ExprAst> children;  // operators: two or more (exclusion: exactly two, left - right)
  SourcePos pos;
};

// One allowed subject of a relation: `user`, `user:*` or `group#member`.
struct SubjectTypeAst {
  std::string type;
  std::string relation;  // empty unless a userset
  bool wildcard = false;
  SourcePos pos;
};

struct RelationAst {
  std::string name;
  std::vector<SubjectTypeAst> allowed;
  SourcePos pos;
};

struct PermissionAst {
  std::string name;
  ExprAst expr;
  SourcePos pos;
};

struct TypeAst {
  std::string name;
  std::vector<RelationAst> relations;
  std::vector<PermissionAst> permissions;
  SourcePos pos;
};

struct ManifestAst {
  std::string source;  // file name (or a label) used in error messages
  std::vector<TypeAst> types;
};

// "<source>:<line>:<column>: " (parts omitted when unknown), the prefix of every manifest error.
std::string FormatPos(const std::string& source, SourcePos pos);

}  // namespace warden::directory
