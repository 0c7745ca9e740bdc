// What the manifest and schema_zed fuzz targets do with a manifest once it parses: compile the model
// from the AST, walk every part of it, then fill a small directory with relations the model allows
// (two objects per type, related both ways so that every userset and arrow forms a cycle) and
// check every member, so that arbitrary models reach the checker's recursion, cycle and limit
// handling as well as the compiler.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "common/directory/checker.h"
#include "common/directory/manifest_ast.h"
#include "common/directory/model.h"
#include "common/directory/snapshot.h"

namespace warden::fuzz {

inline void ExerciseManifest(const directory::ManifestAst& ast, const directory::ManifestSource& source) {
  using directory::DirectorySnapshot;
  directory::Interner symbols;
  auto compiled = directory::Model::Compile(ast, symbols);
  if (!compiled.ok()) {
    (void)compiled.status().message();
    return;
  }
  const directory::Model& model = **compiled;
  for (const auto& type : model.types()) {
    for (const auto& member : type.members) {
      (void)model.PermissionsUsing(type.name, member.name);
      (void)model.ArrowsTo(member.name);
      if (member.kind == directory::MemberDef::Kind::kRelation) (void)model.DescribeAllowed(member);
    }
  }

  // The same text through the path every loader takes (it parses and compiles again, into the
  // snapshot's own interner); it must agree that the manifest is valid.
  auto builder = DirectorySnapshot::Builder::Create(source);
  if (!builder.ok()) __builtin_trap();
  // Enough relations for cycles through every member; a bound keeps big models fast.
  constexpr size_t kMaxRelations = 256;
  constexpr const char* kIds[] = {"a", "b"};
  size_t added = 0;
  for (const auto& type : model.types()) {
    for (const auto& member : type.members) {
      for (const auto& subject : member.allowed) {
        for (int i = 0; i < 2 && added < kMaxRelations; ++i, ++added) {
          directory::RelationTuple tuple{std::string(model.Name(type.name)), kIds[i], std::string(model.Name(member.name)),
                                         std::string(model.Name(subject.type)), subject.wildcard ? "*" : kIds[1 - i],
                                         subject.relation ? std::string(model.Name(subject.relation)) : std::string()};
          // Names the compiler accepted are storable; a refusal here is a disagreement worth a crash.
          if (!builder->AddRelation(tuple).ok()) __builtin_trap();
        }
      }
    }
  }
  std::shared_ptr<const DirectorySnapshot> snapshot = builder->Build(1);

  directory::CheckLimits limits;
  limits.max_visits = 10'000;
  constexpr size_t kMaxChecks = 64;
  size_t checks = 0;
  for (const auto& type : model.types()) {
    for (const auto& member : type.members) {
      for (const auto& subject_type : model.types()) {
        if (checks++ >= kMaxChecks) return;
        directory::CheckRequest request{std::string(model.Name(type.name)), "a", std::string(model.Name(member.name)),
                                        std::string(model.Name(subject_type.name)), "b", "", checks % 4 == 0};
        auto result = directory::Check(*snapshot, request, limits);
        if (!result.ok()) (void)result.status().message();
      }
    }
  }
}

}  // namespace warden::fuzz
