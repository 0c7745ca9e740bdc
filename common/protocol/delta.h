// Delta ops: the unit of change between two revisions of a store (design.md, "Sync protocol").
//
// The control plane records each revision as a list of ops in its change log; sync streams them to
// edges, which apply them to their replica and their in-memory snapshot. Every op is idempotent
// and carries the whole value it sets, so applying a revision twice changes nothing.
//
// JSON forms (exactly what the change log stores and the wire carries):
//   {"op":"object.set",      "object":   {"type","id","display_name"?,"properties"?}}
//   {"op":"object.delete",   "object":   {"type","id"}}
//   {"op":"relation.set",    "relation": {"object_type","object_id","relation","subject_type","subject_id","subject_relation"?}}
//   {"op":"relation.delete", "relation": {...same...}}
//   {"op":"manifest.set",    "manifest": {"format":"yaml"|"zed","name"?,"text","sha256"}}
//   {"op":"policy.set",      "policy":   {"path","text","sha256"}}
//   {"op":"policy.delete",   "policy":   {"path"}}
// `sha256` is the lower-case hex SHA-256 of `text`; a mismatch means corruption and is refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/directory/directory_types.h"
#include "common/policy/source.h"
#include "common/util/status.h"

namespace warden::protocol {

struct DeltaOp {
  enum class Kind { kObjectSet, kObjectDelete, kRelationSet, kRelationDelete, kManifestSet, kPolicySet, kPolicyDelete };
  Kind kind = Kind::kRelationSet;
  directory::ObjectRecord object;      // object.set: whole record; object.delete: type and id
  directory::RelationTuple relation;   // relation.set / relation.delete
  directory::ManifestSource manifest;  // manifest.set
  policy::SourceDocument policy;       // policy.set: path and text; policy.delete: path

  static DeltaOp SetObject(directory::ObjectRecord object);
  static DeltaOp DeleteObject(std::string type, std::string id);
  static DeltaOp SetRelation(directory::RelationTuple relation);
  static DeltaOp DeleteRelation(directory::RelationTuple relation);
  static DeltaOp SetManifest(directory::ManifestSource manifest);
  static DeltaOp SetPolicy(std::string path, std::string text);
  static DeltaOp DeletePolicy(std::string path);
};

// "object.set", "relation.delete", ...
std::string_view OpName(DeltaOp::Kind kind);

nlohmann::json OpToJson(const DeltaOp& op);
// InvalidArgument naming the field ("relation.subject_id: required", "op: unknown 'object.frob'",
// "policy.sha256: does not match the text").
Result<DeltaOp> OpFromJson(const nlohmann::json& json);

nlohmann::json OpsToJson(const std::vector<DeltaOp>& ops);
// Errors are prefixed with the op's index: "ops[3].relation.subject_id: required".
Result<std::vector<DeltaOp>> OpsFromJson(const nlohmann::json& json);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// SHA-256 over data that arrives in pieces (a snapshot's chunks), so the hash is ready when the
// last piece is.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  // Lower-case hex of everything given since construction or the last Reset().
  std::string HexDigest();
  void Reset();

 private:
  void* context_;  // EVP_MD_CTX, kept out of this header
};

// The directory part of `ops`, as one batch for DirectorySnapshot::Apply.
directory::ChangeBatch DirectoryBatch(const std::vector<DeltaOp>& ops, uint64_t revision);

// Whether `ops` touch policies at all (if not, a new snapshot can reuse the compiled set).
bool TouchesPolicies(const std::vector<DeltaOp>& ops);

// The policy files after `ops`, given those before; sorted by path.
std::vector<policy::SourceDocument> ApplyPolicyOps(const std::vector<policy::SourceDocument>& before,
                                                   const std::vector<DeltaOp>& ops);

}  // namespace warden::protocol
