// DirectorySnapshot: one immutable revision of the directory (manifest, objects, relations),
// indexed for checks and lookups.
//
// Readers hold a std::shared_ptr<const DirectorySnapshot> for as long as they need one consistent
// view; nothing in a published snapshot ever changes. A new revision comes from Apply(), which
// shares every untouched part of the index with its parent (persistent B+-trees, see
// persistent_btree.h) and costs O(k log n) for k changes; an old revision is freed when its last
// reader lets go. Building from scratch (Builder) sorts and packs the data in O(n log n).
//
// Index layout (all ids are interned integers, see interner.h):
//   forward   (object, relation, subject_relation, subject_type, subject_id)  adjacency for checks
//   reverse   (subject, subject_relation, object_type, relation, object_id)   for lookups
//   names     (hash(id string), id)                                           lock-free id lookup
//   objects   (type, id) -> ObjectRecord
// Forward keys put direct subjects (no subject relation) before usersets, so a check finds a
// direct grant with one probe and the usersets to follow with one range scan.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/directory/directory_types.h"
#include "common/directory/interner.h"
#include "common/directory/model.h"
#include "common/directory/persistent_btree.h"
#include "common/util/status.h"

namespace warden::directory {

using IndexKey = unsigned __int128;

// Interned strings shared by all revisions of one lineage.
struct Universe {
  Interner ids;      // object and subject ids
  Interner symbols;  // type, relation and permission names
};

// Compiles manifest text (either language) into a model. Errors name the file, line and column.
Result<std::shared_ptr<const Model>> CompileManifest(const ManifestSource& source, Interner& symbols);

// Filters for reading relations; empty fields match anything.
struct RelationFilter {
  std::string object_type, object_id, relation, subject_type, subject_id, subject_relation;
};

struct RelationPage {
  std::vector<RelationTuple> relations;
  std::string next_cursor;  // empty on the last page
};

struct ObjectPage {
  std::vector<ObjectRecord> objects;
  std::string next_cursor;
};

class DirectorySnapshot {
 public:
  // Bulk loading: the fast path for a whole data set (a folder, a snapshot from the control
  // plane). Not thread-safe; one Builder per load.
  class Builder {
   public:
    // Starts with `manifest`, or with Topaz's built-in model when nullopt. Fails with the
    // manifest's error (file, line, column, reason).
    static Result<Builder> Create(const std::optional<ManifestSource>& manifest);

    // Adds an object, replacing an earlier one with the same (type, id). InvalidArgument when the
    // type is not in the manifest or the id is empty.
    Status AddObject(ObjectRecord object);
    // Adds a relation (duplicates are kept once). InvalidArgument, with the reason, when the
    // manifest does not allow it or a field is empty.
    Status AddRelation(const RelationTuple& relation);

    // Sorts and packs everything into a snapshot at `revision`. The Builder is left empty.
    std::shared_ptr<const DirectorySnapshot> Build(uint64_t revision = 1);

   private:
    Builder() = default;
    std::shared_ptr<Universe> universe_;
    std::shared_ptr<const Model> model_;
    std::optional<ManifestSource> manifest_source_;
    std::vector<IndexKey> forward_;
    std::vector<uint32_t> ids_;
    std::vector<std::pair<uint64_t, std::shared_ptr<const ObjectRecord>>> objects_;
  };

  // An empty directory with the built-in model at revision 0.
  static std::shared_ptr<const DirectorySnapshot> Empty();

  // The snapshot that results from applying `batch` to this one; this one is unchanged. The
  // batch is atomic: on any error nothing is applied and the Status names the change (its index
  // and value) and the reason. `batch.revision` must exceed revision() (FailedPrecondition
  // otherwise); 0 means revision() + 1. A manifest.set revalidates every stored relation and
  // object against the new manifest (O(n); manifests change rarely).
  Result<std::shared_ptr<const DirectorySnapshot>> Apply(const ChangeBatch& batch) const;

  uint64_t revision() const { return revision_; }
  const Model& model() const { return *model_; }
  // The manifest text this snapshot was built with; nullopt for the built-in model.
  const std::optional<ManifestSource>& manifest_source() const { return manifest_source_; }
  size_t relation_count() const { return forward_.size(); }
  size_t object_count() const { return objects_.size(); }

  // The object record, or NotFound. An object that only appears in relations has no record.
  Result<ObjectRecord> GetObject(std::string_view type, std::string_view id) const;

  // The id of the user that `id_or_identity` names: the id itself if a user with that id has a
  // record or appears in a relation, else the user related to `identity:<id_or_identity>` by
  // `identifier` (emails, usernames, PIDs). nullopt when neither matches. O(log n).
  std::optional<std::string> ResolveUser(std::string_view id_or_identity) const;
  // The same, as the user's interned id; allocates nothing.
  std::optional<uint32_t> ResolveUserId(std::string_view id_or_identity) const;

  // Relations matching `filter` in index order, at most `page_size` (1..10000, default 100) per
  // page; pass the returned cursor back for the next page. A malformed cursor is
  // InvalidArgument("cursor: ...").
  Result<RelationPage> ListRelations(const RelationFilter& filter, size_t page_size = 100,
                                     std::string_view cursor = {}) const;
  // Object records, optionally of one type, paged like ListRelations.
  Result<ObjectPage> ListObjects(std::string_view type, size_t page_size = 100, std::string_view cursor = {}) const;

  // ---- Low-level access for the engine (checker, lookups). ----
  using KeySet = PersistentBTree<IndexKey, Unit>;
  using ObjectMap = PersistentBTree<uint64_t, std::shared_ptr<const ObjectRecord>>;

  static IndexKey ForwardKey(Symbol ot, uint32_t oid, Symbol rel, Symbol srel, Symbol st, uint32_t sid) {
    uint64_t hi = static_cast<uint64_t>(ot) << 48 | static_cast<uint64_t>(oid) << 16 | rel;
    uint64_t lo = static_cast<uint64_t>(srel) << 48 | static_cast<uint64_t>(st) << 32 | sid;
    return static_cast<IndexKey>(hi) << 64 | lo;
  }
  static IndexKey ReverseKey(Symbol st, uint32_t sid, Symbol srel, Symbol ot, Symbol rel, uint32_t oid) {
    uint64_t hi = static_cast<uint64_t>(st) << 48 | static_cast<uint64_t>(sid) << 16 | srel;
    uint64_t lo = static_cast<uint64_t>(ot) << 48 | static_cast<uint64_t>(rel) << 32 | oid;
    return static_cast<IndexKey>(hi) << 64 | lo;
  }
  static uint64_t Hi(IndexKey k) { return static_cast<uint64_t>(k >> 64); }
  static uint64_t Lo(IndexKey k) { return static_cast<uint64_t>(k); }
  static uint64_t ObjectKey(Symbol type, uint32_t id) { return static_cast<uint64_t>(type) << 32 | id; }

  const KeySet& forward() const { return forward_; }
  const KeySet& reverse() const { return reverse_; }
  const ObjectMap& objects() const { return objects_; }
  // The interned id of `s` if any object or relation of this lineage used it. Lock-free.
  std::optional<uint32_t> FindId(std::string_view s) const;
  std::string_view IdString(uint32_t id) const { return universe_->ids.Str(id); }
  // The interned id of "*", or 0 if no wildcard was ever written.
  uint32_t wildcard_id() const { return wildcard_id_; }

 private:
  friend class Builder;
  DirectorySnapshot() = default;
  Status ValidateAll() const;

  std::shared_ptr<Universe> universe_;
  std::shared_ptr<const Model> model_;
  std::optional<ManifestSource> manifest_source_;
  uint64_t revision_ = 0;
  uint32_t wildcard_id_ = 0;
  KeySet forward_;
  KeySet reverse_;
  KeySet names_;
  ObjectMap objects_;
};

}  // namespace warden::directory
