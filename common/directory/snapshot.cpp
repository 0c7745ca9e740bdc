#include "common/directory/snapshot.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "common/directory/manifest_yaml.h"
#include "common/directory/schema_zed.h"

namespace warden::directory {
namespace {

IndexKey NameKey(uint64_t hash, uint32_t id) { return static_cast<IndexKey>(hash) << 64 | id; }
IndexKey NameKey(std::string_view s, uint32_t id) { return NameKey(Interner::Hash(s), id); }

struct Decoded {
  Symbol ot, rel, st, srel;
  uint32_t oid, sid;
};

Decoded DecodeForward(IndexKey k) {
  uint64_t hi = DirectorySnapshot::Hi(k), lo = DirectorySnapshot::Lo(k);
  return {static_cast<Symbol>(hi >> 48), static_cast<Symbol>(hi & 0xffff), static_cast<Symbol>((lo >> 32) & 0xffff),
          static_cast<Symbol>(lo >> 48), static_cast<uint32_t>(hi >> 16), static_cast<uint32_t>(lo)};
}

Decoded DecodeReverse(IndexKey k) {
  uint64_t hi = DirectorySnapshot::Hi(k), lo = DirectorySnapshot::Lo(k);
  return {static_cast<Symbol>(lo >> 48), static_cast<Symbol>((lo >> 32) & 0xffff), static_cast<Symbol>(hi >> 48),
          static_cast<Symbol>(hi & 0xffff), static_cast<uint32_t>(lo), static_cast<uint32_t>(hi >> 16)};
}

IndexKey ReverseOf(IndexKey forward) {
  Decoded d = DecodeForward(forward);
  return DirectorySnapshot::ReverseKey(d.st, d.sid, d.srel, d.ot, d.rel, d.oid);
}

std::string EncodeCursor(char kind, IndexKey k) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%c%016llx%016llx", kind, static_cast<unsigned long long>(k >> 64),
                static_cast<unsigned long long>(static_cast<uint64_t>(k)));
  return buf;
}

Result<IndexKey> DecodeCursor(std::string_view cursor, char kind) {
  if (cursor.size() != 33 || cursor[0] != kind) {
    return Status::InvalidArgument("cursor: not a cursor returned by this listing");
  }
  IndexKey k = 0;
  for (size_t i = 1; i < cursor.size(); ++i) {
    char c = cursor[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return Status::InvalidArgument("cursor: not a cursor returned by this listing");
    k = k << 4 | static_cast<IndexKey>(v);
  }
  return k;
}

// Resolved symbols and ids of a relation tuple.
struct Interned {
  Symbol ot = 0, rel = 0, st = 0, srel = 0;
  uint32_t oid = 0, sid = 0;
  uint64_t ohash = 0, shash = 0;  // Interner::Hash of the id strings
  bool wildcard = false;
};

Status RequireFields(const RelationTuple& r) {
  if (r.object_type.empty()) return Status::InvalidArgument("object_type is empty");
  if (r.object_id.empty()) return Status::InvalidArgument("object_id is empty");
  if (r.relation.empty()) return Status::InvalidArgument("relation is empty");
  if (r.subject_type.empty()) return Status::InvalidArgument("subject_type is empty");
  if (r.subject_id.empty()) return Status::InvalidArgument("subject_id is empty");
  if (r.subject_id == "*" && !r.subject_relation.empty()) {
    return Status::InvalidArgument("a wildcard subject cannot have a subject_relation");
  }
  return Status::Ok();
}

// Resolves names through the model and validates the tuple against it; interns ids when
// `interner` is given.
Result<Interned> Resolve(const Model& model, Interner* interner, const RelationTuple& r) {
  WARDEN_RETURN_IF_ERROR(RequireFields(r));
  Interned out;
  auto ot = model.FindSymbol(r.object_type);
  if (!ot || model.Type(*ot) == nullptr) return Status::InvalidArgument("unknown object type '" + r.object_type + "'");
  auto rel = model.FindSymbol(r.relation);
  if (!rel || model.Member(*ot, *rel) == nullptr) {
    return Status::InvalidArgument("type '" + r.object_type + "' has no relation '" + r.relation + "'");
  }
  auto st = model.FindSymbol(r.subject_type);
  if (!st || model.Type(*st) == nullptr) return Status::InvalidArgument("unknown subject type '" + r.subject_type + "'");
  Symbol srel = 0;
  if (!r.subject_relation.empty()) {
    auto s = model.FindSymbol(r.subject_relation);
    if (!s || model.Member(*st, *s) == nullptr) {
      return Status::InvalidArgument("type '" + r.subject_type + "' has no relation or permission '" +
                                     r.subject_relation + "'");
    }
    srel = *s;
  }
  out.wildcard = r.subject_id == "*";
  WARDEN_RETURN_IF_ERROR(model.ValidateRelation(*ot, *rel, *st, srel, out.wildcard));
  out.ot = *ot;
  out.rel = *rel;
  out.st = *st;
  out.srel = srel;
  if (interner != nullptr) {
    out.ohash = Interner::Hash(r.object_id);
    out.shash = Interner::Hash(r.subject_id);
    out.oid = interner->Intern(r.object_id, out.ohash);
    out.sid = interner->Intern(r.subject_id, out.shash);
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<const Model>> CompileManifest(const ManifestSource& source, Interner& symbols) {
  auto ast = source.format == ManifestSource::Format::kZed ? ParseSchemaZed(source.text, source.name)
                                                            : ParseManifestYaml(source.text, source.name);
  if (!ast.ok()) return ast.status();
  return Model::Compile(*ast, symbols);
}

// ---- Builder ----

Result<DirectorySnapshot::Builder> DirectorySnapshot::Builder::Create(const std::optional<ManifestSource>& manifest) {
  Builder b;
  b.universe_ = std::make_shared<Universe>();
  if (manifest) {
    auto model = CompileManifest(*manifest, b.universe_->symbols);
    if (!model.ok()) return model.status();
    b.model_ = *model;
    b.manifest_source_ = manifest;
  } else {
    b.model_ = Model::BuiltIn(b.universe_->symbols);
  }
  return b;
}

Status DirectorySnapshot::Builder::AddObject(ObjectRecord object) {
  if (object.type.empty()) return Status::InvalidArgument("type is empty");
  if (object.id.empty()) return Status::InvalidArgument("id is empty");
  auto type = model_->FindSymbol(object.type);
  if (!type || model_->Type(*type) == nullptr) {
    return Status::InvalidArgument("unknown object type '" + object.type + "'");
  }
  if (!object.properties.is_object()) return Status::InvalidArgument("properties must be a JSON object");
  uint32_t id = universe_->ids.Intern(object.id);
  ids_.push_back(id);
  objects_.emplace_back(ObjectKey(*type, id), std::make_shared<const ObjectRecord>(std::move(object)));
  return Status::Ok();
}

Status DirectorySnapshot::Builder::AddRelation(const RelationTuple& relation) {
  auto r = Resolve(*model_, &universe_->ids, relation);
  if (!r.ok()) return r.status();
  ids_.push_back(r->oid);
  ids_.push_back(r->sid);
  forward_.push_back(ForwardKey(r->ot, r->oid, r->rel, r->srel, r->st, r->sid));
  return Status::Ok();
}

std::shared_ptr<const DirectorySnapshot> DirectorySnapshot::Builder::Build(uint64_t revision) {
  std::shared_ptr<DirectorySnapshot> snap(new DirectorySnapshot());
  snap->universe_ = universe_;
  snap->model_ = model_;
  snap->manifest_source_ = manifest_source_;
  snap->revision_ = revision;
  snap->wildcard_id_ = universe_->ids.FindLocked("*").value_or(0);

  std::sort(forward_.begin(), forward_.end());
  forward_.erase(std::unique(forward_.begin(), forward_.end()), forward_.end());
  std::vector<std::pair<IndexKey, Unit>> entries;
  entries.reserve(forward_.size());
  for (IndexKey k : forward_) entries.emplace_back(k, Unit{});
  snap->forward_ = KeySet::FromSorted(std::move(entries));

  entries.clear();
  for (IndexKey k : forward_) entries.emplace_back(ReverseOf(k), Unit{});
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  snap->reverse_ = KeySet::FromSorted(std::move(entries));
  forward_.clear();
  forward_.shrink_to_fit();

  std::sort(ids_.begin(), ids_.end());
  ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
  std::vector<std::pair<IndexKey, Unit>> names;
  names.reserve(ids_.size());
  for (uint32_t id : ids_) names.emplace_back(NameKey(universe_->ids.Str(id), id), Unit{});
  std::sort(names.begin(), names.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  snap->names_ = KeySet::FromSorted(std::move(names));
  ids_.clear();

  // Later records replace earlier ones with the same key.
  std::stable_sort(objects_.begin(), objects_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<uint64_t, std::shared_ptr<const ObjectRecord>>> unique;
  for (auto& entry : objects_) {
    if (!unique.empty() && unique.back().first == entry.first) {
      unique.back().second = std::move(entry.second);
    } else {
      unique.push_back(std::move(entry));
    }
  }
  objects_.clear();
  snap->objects_ = ObjectMap::FromSorted(std::move(unique));
  return snap;
}

std::shared_ptr<const DirectorySnapshot> DirectorySnapshot::Empty() {
  auto builder = Builder::Create(std::nullopt);
  return builder->Build(0);
}

// ---- Apply ----

Result<std::shared_ptr<const DirectorySnapshot>> DirectorySnapshot::Apply(const ChangeBatch& batch) const {
  uint64_t revision = batch.revision == 0 ? revision_ + 1 : batch.revision;
  if (revision <= revision_) {
    return Status::FailedPrecondition("revision " + std::to_string(revision) + " is not after the snapshot's revision " +
                                      std::to_string(revision_));
  }
  std::shared_ptr<DirectorySnapshot> next(new DirectorySnapshot());
  next->universe_ = universe_;
  next->model_ = model_;
  next->manifest_source_ = manifest_source_;
  next->revision_ = revision;
  KeySet::Editor forward(forward_), reverse(reverse_), names(names_);
  ObjectMap::Editor objects(objects_);
  bool manifest_changed = false;
  Interner& ids = universe_->ids;
  // Probing first keeps an already present key from copying its path.
  auto add_name = [&](uint32_t id, uint64_t hash) {
    IndexKey key = NameKey(hash, id);
    if (names.Find(key) == nullptr) names.Upsert(key, Unit{});
  };

  for (size_t i = 0; i < batch.changes.size(); ++i) {
    const Change& change = batch.changes[i];
    // `what` is a callable naming the change, so the name is built only for an error.
    auto fail = [&](auto&& what, const Status& s) {
      return Status(s.code(), "change " + std::to_string(i) + " (" + what() + "): " + s.message());
    };
    switch (change.kind) {
      case Change::Kind::kManifestSet: {
        auto model = CompileManifest(change.manifest, universe_->symbols);
        if (!model.ok()) return fail([] { return std::string("manifest.set"); }, model.status());
        next->model_ = *model;
        next->manifest_source_ = change.manifest;
        manifest_changed = true;
        break;
      }
      case Change::Kind::kRelationSet:
      case Change::Kind::kRelationDelete: {
        bool set = change.kind == Change::Kind::kRelationSet;
        auto what = [&] { return std::string(set ? "relation.set " : "relation.delete ") + change.relation.ToString(); };
        if (set) {
          auto r = Resolve(*next->model_, &ids, change.relation);
          if (!r.ok()) return fail(what, r.status());
          IndexKey k = ForwardKey(r->ot, r->oid, r->rel, r->srel, r->st, r->sid);
          if (forward.Find(k) == nullptr) {
            forward.Upsert(k, Unit{});
            reverse.Upsert(ReverseOf(k), Unit{});
            add_name(r->oid, r->ohash);
            add_name(r->sid, r->shash);
          }
        } else {
          WARDEN_RETURN_IF_ERROR(RequireFields(change.relation).ok() ? Status::Ok()
                                                                     : fail(what, RequireFields(change.relation)));
          const Model& m = *next->model_;
          auto ot = m.FindSymbol(change.relation.object_type);
          auto rel = m.FindSymbol(change.relation.relation);
          auto st = m.FindSymbol(change.relation.subject_type);
          std::optional<Symbol> srel = Symbol{0};
          if (!change.relation.subject_relation.empty()) srel = m.FindSymbol(change.relation.subject_relation);
          auto oid = ids.FindLocked(change.relation.object_id);
          auto sid = ids.FindLocked(change.relation.subject_id);
          if (!ot || !rel || !st || !srel || !oid || !sid) break;  // never stored: nothing to delete
          IndexKey k = ForwardKey(*ot, *oid, *rel, *srel, *st, *sid);
          if (forward.Erase(k)) reverse.Erase(ReverseOf(k));
        }
        break;
      }
      case Change::Kind::kObjectSet: {
        const ObjectRecord& o = change.object;
        auto what = [&] { return "object.set " + o.type + ":" + o.id; };
        if (o.type.empty()) return fail(what, Status::InvalidArgument("type is empty"));
        if (o.id.empty()) return fail(what, Status::InvalidArgument("id is empty"));
        if (!o.properties.is_object()) return fail(what, Status::InvalidArgument("properties must be a JSON object"));
        auto type = next->model_->FindSymbol(o.type);
        if (!type || next->model_->Type(*type) == nullptr) {
          return fail(what, Status::InvalidArgument("unknown object type '" + o.type + "'"));
        }
        uint64_t hash = Interner::Hash(o.id);
        uint32_t id = ids.Intern(o.id, hash);
        add_name(id, hash);
        objects.Upsert(ObjectKey(*type, id), std::make_shared<const ObjectRecord>(o));
        break;
      }
      case Change::Kind::kObjectDelete: {
        auto type = next->model_->FindSymbol(change.object.type);
        auto id = ids.FindLocked(change.object.id);
        if (type && id) objects.Erase(ObjectKey(*type, *id));
        break;
      }
    }
  }
  next->forward_ = forward.Finish();
  next->reverse_ = reverse.Finish();
  next->names_ = names.Finish();
  next->objects_ = objects.Finish();
  next->wildcard_id_ = ids.FindLocked("*").value_or(0);
  if (manifest_changed) {
    Status s = next->ValidateAll();
    if (!s.ok()) return Status(s.code(), "manifest.set: the data no longer fits the new manifest: " + s.message());
  }
  return std::shared_ptr<const DirectorySnapshot>(std::move(next));
}

Status DirectorySnapshot::ValidateAll() const {
  Status status;
  forward_.ScanFrom(0, [&](IndexKey k, const Unit&) {
    Decoded d = DecodeForward(k);
    Status s = model_->ValidateRelation(d.ot, d.rel, d.st, d.srel, d.sid == wildcard_id_ && wildcard_id_ != 0);
    if (!s.ok()) {
      RelationTuple t{std::string(model_->Name(d.ot)), std::string(IdString(d.oid)), std::string(model_->Name(d.rel)),
                      std::string(model_->Name(d.st)), std::string(IdString(d.sid)), std::string(model_->Name(d.srel))};
      status = Status(s.code(), t.ToString() + ": " + s.message());
      return false;
    }
    return true;
  });
  if (!status.ok()) return status;
  objects_.ScanFrom(0, [&](uint64_t key, const std::shared_ptr<const ObjectRecord>& o) {
    if (model_->Type(static_cast<Symbol>(key >> 32)) == nullptr) {
      status = Status::InvalidArgument("object " + o->type + ":" + o->id + ": unknown object type '" + o->type + "'");
      return false;
    }
    return true;
  });
  return status;
}

// ---- Reads ----

std::optional<uint32_t> DirectorySnapshot::FindId(std::string_view s) const {
  uint64_t h = Interner::Hash(s);
  std::optional<uint32_t> found;
  names_.ScanFrom(static_cast<IndexKey>(h) << 64, [&](IndexKey k, const Unit&) {
    if (Hi(k) != h) return false;
    uint32_t id = static_cast<uint32_t>(Lo(k));
    if (universe_->ids.Str(id) == s) {
      found = id;
      return false;
    }
    return true;
  });
  return found;
}

Result<ObjectRecord> DirectorySnapshot::GetObject(std::string_view type, std::string_view id) const {
  auto t = model_->FindSymbol(type);
  if (!t || model_->Type(*t) == nullptr) return Status::InvalidArgument("object_type: unknown type '" + std::string(type) + "'");
  auto i = FindId(id);
  const std::shared_ptr<const ObjectRecord>* rec = i ? objects_.Find(ObjectKey(*t, *i)) : nullptr;
  if (rec == nullptr) return Status::NotFound("object " + std::string(type) + ":" + std::string(id) + " not found");
  return **rec;
}

std::optional<std::string> DirectorySnapshot::ResolveUser(std::string_view id_or_identity) const {
  auto id = ResolveUserId(id_or_identity);
  if (!id) return std::nullopt;
  return std::string(IdString(*id));
}

std::optional<uint32_t> DirectorySnapshot::ResolveUserId(std::string_view id_or_identity) const {
  auto user = model_->FindSymbol("user");
  if (!user) return std::nullopt;
  auto id = FindId(id_or_identity);
  if (!id) return std::nullopt;
  if (objects_.Contains(ObjectKey(*user, *id))) return id;
  auto has_prefix = [&](const KeySet& set, uint64_t prefix) {
    bool hit = false;
    set.ScanFrom(static_cast<IndexKey>(prefix << 16) << 64, [&](IndexKey k, const Unit&) {
      hit = (Hi(k) >> 16) == prefix;
      return false;
    });
    return hit;
  };
  uint64_t prefix = static_cast<uint64_t>(*user) << 32 | *id;
  if (has_prefix(forward_, prefix) || has_prefix(reverse_, prefix)) return id;
  auto identity = model_->FindSymbol("identity");
  auto identifier = model_->FindSymbol("identifier");
  if (!identity || !identifier) return std::nullopt;
  std::optional<uint32_t> found;
  IndexKey lo = ForwardKey(*identity, *id, *identifier, 0, 0, 0);
  forward_.ScanFrom(lo, [&](IndexKey k, const Unit&) {
    if (Hi(k) != Hi(lo)) return false;
    Decoded d = DecodeForward(k);
    if (d.srel != 0) return false;
    if (d.st == *user) {
      found = d.sid;
      return false;
    }
    return true;
  });
  return found;
}

Result<RelationPage> DirectorySnapshot::ListRelations(const RelationFilter& f, size_t page_size,
                                                      std::string_view cursor) const {
  if (page_size == 0 || page_size > 10000) return Status::InvalidArgument("page_size: must be between 1 and 10000");
  RelationPage page;
  // Every named filter must exist, or nothing can match.
  auto sym = [&](const std::string& name, Symbol& out) {
    if (name.empty()) return true;
    auto s = model_->FindSymbol(name);
    if (!s) return false;
    out = *s;
    return true;
  };
  auto idof = [&](const std::string& name, uint32_t& out) {
    if (name.empty()) return true;
    auto s = FindId(name);
    if (!s) return false;
    out = *s;
    return true;
  };
  Symbol ot = 0, rel = 0, st = 0, srel = 0;
  uint32_t oid = 0, sid = 0;
  bool by_subject = f.object_id.empty() && !f.subject_type.empty() && !f.subject_id.empty();
  char kind = by_subject ? 'r' : 'f';
  IndexKey start = 0;
  if (!cursor.empty()) {
    auto k = DecodeCursor(cursor, kind);
    if (!k.ok()) return k.status();
    start = *k + 1;
  }
  if (!f.object_id.empty() && f.object_type.empty()) return Status::InvalidArgument("object_id: needs object_type");
  if (!f.subject_id.empty() && f.subject_type.empty()) return Status::InvalidArgument("subject_id: needs subject_type");
  if (!sym(f.object_type, ot) || !sym(f.relation, rel) || !sym(f.subject_type, st) || !sym(f.subject_relation, srel) ||
      !idof(f.object_id, oid) || !idof(f.subject_id, sid)) {
    return page;
  }
  IndexKey prefix_lo = 0, prefix_hi = ~static_cast<IndexKey>(0);
  if (by_subject) {
    prefix_lo = ReverseKey(st, sid, 0, 0, 0, 0);
    prefix_hi = ReverseKey(st, sid, 0xffff, 0xffff, 0xffff, 0xffffffff);
  } else if (!f.object_type.empty()) {
    prefix_lo = ForwardKey(ot, f.object_id.empty() ? 0 : oid, 0, 0, 0, 0);
    prefix_hi = ForwardKey(ot, f.object_id.empty() ? 0xffffffff : oid, 0xffff, 0xffff, 0xffff, 0xffffffff);
  }
  if (start < prefix_lo) start = prefix_lo;
  const KeySet& set = by_subject ? reverse_ : forward_;
  IndexKey last = 0;
  bool more = false;
  set.ScanFrom(start, [&](IndexKey k, const Unit&) {
    if (k > prefix_hi) return false;
    Decoded d = by_subject ? DecodeReverse(k) : DecodeForward(k);
    if ((!f.object_type.empty() && d.ot != ot) || (!f.object_id.empty() && d.oid != oid) ||
        (!f.relation.empty() && d.rel != rel) || (!f.subject_type.empty() && d.st != st) ||
        (!f.subject_id.empty() && d.sid != sid) || (!f.subject_relation.empty() && d.srel != srel)) {
      return true;
    }
    if (page.relations.size() == page_size) {
      more = true;
      return false;
    }
    page.relations.push_back({std::string(model_->Name(d.ot)), std::string(IdString(d.oid)),
                              std::string(model_->Name(d.rel)), std::string(model_->Name(d.st)),
                              std::string(IdString(d.sid)), std::string(model_->Name(d.srel))});
    last = k;
    return true;
  });
  if (more) page.next_cursor = EncodeCursor(kind, last);
  return page;
}

Result<ObjectPage> DirectorySnapshot::ListObjects(std::string_view type, size_t page_size, std::string_view cursor) const {
  if (page_size == 0 || page_size > 10000) return Status::InvalidArgument("page_size: must be between 1 and 10000");
  ObjectPage page;
  uint64_t lo = 0, hi = ~uint64_t{0};
  if (!type.empty()) {
    auto t = model_->FindSymbol(type);
    if (!t || model_->Type(*t) == nullptr) return Status::InvalidArgument("object_type: unknown type '" + std::string(type) + "'");
    lo = ObjectKey(*t, 0);
    hi = ObjectKey(*t, 0xffffffff);
  }
  if (!cursor.empty()) {
    auto k = DecodeCursor(cursor, 'o');
    if (!k.ok()) return k.status();
    lo = std::max<uint64_t>(lo, static_cast<uint64_t>(*k) + 1);
  }
  uint64_t last = 0;
  bool more = false;
  objects_.ScanFrom(lo, [&](uint64_t k, const std::shared_ptr<const ObjectRecord>& o) {
    if (k > hi) return false;
    if (page.objects.size() == page_size) {
      more = true;
      return false;
    }
    page.objects.push_back(*o);
    last = k;
    return true;
  });
  if (more) page.next_cursor = EncodeCursor('o', last);
  return page;
}

}  // namespace warden::directory
