// Plain values that flow in and out of the directory: objects, relation tuples, manifest text
// and batches of changes (the delta ops of the sync protocol).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace warden::directory {

// An object record: `(type, id)` with a display name and free-form JSON properties.
struct ObjectRecord {
  std::string type;
  std::string id;
  std::string display_name;
  nlohmann::json properties = nlohmann::json::object();
};

// `object_type:object_id#relation@subject_type:subject_id[#subject_relation]`; subject_id "*"
// is the wildcard (every subject of that type).
struct RelationTuple {
  std::string object_type;
  std::string object_id;
  std::string relation;
  std::string subject_type;
  std::string subject_id;
  std::string subject_relation;

  std::string ToString() const {
    std::string s = object_type + ":" + object_id + "#" + relation + "@" + subject_type + ":" + subject_id;
    if (!subject_relation.empty()) s += "#" + subject_relation;
    return s;
  }
  bool operator==(const RelationTuple&) const = default;
};

// Manifest text in either language.
struct ManifestSource {
  enum class Format { kYaml, kZed };
  Format format = Format::kYaml;
  std::string text;
  std::string name;  // file name used in error messages
};

// One idempotent, full-value change. Deleting what does not exist is a no-op.
struct Change {
  enum class Kind { kObjectSet, kObjectDelete, kRelationSet, kRelationDelete, kManifestSet };
  Kind kind = Kind::kRelationSet;
  ObjectRecord object;      // kObjectSet; kObjectDelete uses type and id
  RelationTuple relation;   // kRelationSet, kRelationDelete
  ManifestSource manifest;  // kManifestSet

  static Change SetObject(ObjectRecord o) { Change c; c.kind = Kind::kObjectSet; c.object = std::move(o); return c; }
  static Change DeleteObject(std::string type, std::string id) {
    Change c;
    c.kind = Kind::kObjectDelete;
    c.object.type = std::move(type);
    c.object.id = std::move(id);
    return c;
  }
  static Change SetRelation(RelationTuple r) { Change c; c.kind = Kind::kRelationSet; c.relation = std::move(r); return c; }
  static Change DeleteRelation(RelationTuple r) { Change c; c.kind = Kind::kRelationDelete; c.relation = std::move(r); return c; }
  static Change SetManifest(ManifestSource m) { Change c; c.kind = Kind::kManifestSet; c.manifest = std::move(m); return c; }
};

// The changes of one revision, applied atomically. `revision` 0 means "the next one".
struct ChangeBatch {
  uint64_t revision = 0;
  std::vector<Change> changes;
};

}  // namespace warden::directory
