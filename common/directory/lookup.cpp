#include "common/directory/lookup.h"

#include <algorithm>
#include <unordered_set>

namespace warden::directory {
namespace {

uint64_t NodeKey(Symbol t, uint32_t id, Symbol name) {
  return static_cast<uint64_t>(t) << 48 | static_cast<uint64_t>(id) << 16 | name;
}

std::string HexCursor(std::string_view last) {
  static const char* kHex = "0123456789abcdef";
  std::string out = "l";
  for (unsigned char c : last) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

Result<std::string> ParseHexCursor(std::string_view cursor) {
  if (cursor.empty() || cursor[0] != 'l' || cursor.size() % 2 != 1) {
    return Status::InvalidArgument("cursor: not a cursor returned by this lookup");
  }
  std::string out;
  for (size_t i = 1; i < cursor.size(); i += 2) {
    auto nib = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
    int a = nib(cursor[i]), b = nib(cursor[i + 1]);
    if (a < 0 || b < 0) return Status::InvalidArgument("cursor: not a cursor returned by this lookup");
    out.push_back(static_cast<char>(a << 4 | b));
  }
  return out;
}

// Sorts, applies the cursor and the page size.
Status Paginate(std::vector<std::string>& ids, size_t page_size, const std::string& cursor, LookupResult& out) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  size_t begin = 0;
  if (!cursor.empty()) {
    auto after = ParseHexCursor(cursor);
    if (!after.ok()) return after.status();
    begin = static_cast<size_t>(std::upper_bound(ids.begin(), ids.end(), *after) - ids.begin());
  }
  size_t end = page_size == 0 ? ids.size() : std::min(ids.size(), begin + page_size);
  out.ids.assign(std::make_move_iterator(ids.begin() + static_cast<std::ptrdiff_t>(begin)),
                 std::make_move_iterator(ids.begin() + static_cast<std::ptrdiff_t>(end)));
  if (end < ids.size() && !out.ids.empty()) out.next_cursor = HexCursor(out.ids.back());
  return Status::Ok();
}

Result<Symbol> TypeSymbol(const Model& model, const std::string& field, const std::string& name) {
  if (name.empty()) return Status::InvalidArgument(field + ": required");
  auto s = model.FindSymbol(name);
  if (!s || model.Type(*s) == nullptr) return Status::InvalidArgument(field + ": unknown type '" + name + "'");
  return *s;
}

Result<Symbol> MemberSymbol(const Model& model, Symbol type, const std::string& field, const std::string& name) {
  if (name.empty()) return Status::InvalidArgument(field + ": required");
  auto s = model.FindSymbol(name);
  if (!s || model.Member(type, *s) == nullptr) {
    return Status::InvalidArgument(field + ": type '" + std::string(model.Name(type)) +
                                   "' has no relation or permission '" + name + "'");
  }
  return *s;
}

std::optional<uint32_t> ResolveId(const DirectorySnapshot& snap, const std::string& type, const std::string& id) {
  if (type == "user") {
    auto user = snap.ResolveUserId(id);
    if (user) return user;
  }
  return snap.FindId(id);
}

// Breadth-first walk with a visited set and the fan-out bound.
class NodeQueue {
 public:
  explicit NodeQueue(size_t max) : max_(max) {}
  bool Push(Symbol t, uint32_t id, Symbol name) {
    if (!seen_.insert(NodeKey(t, id, name)).second) return true;
    if (seen_.size() > max_) return false;
    queue_.push_back({t, id, name});
    return true;
  }
  struct Item {
    Symbol type;
    uint32_t id;
    Symbol name;
  };
  bool Pop(Item& out) {
    if (head_ == queue_.size()) return false;
    out = queue_[head_++];
    return true;
  }

 private:
  size_t max_;
  std::unordered_set<uint64_t> seen_;
  std::vector<Item> queue_;
  size_t head_ = 0;
};

Status FanOut(const CheckLimits& limits) {
  return Status::ResourceExhausted("lookup exceeded the fan-out limit of " + std::to_string(limits.max_visits) +
                                   " visited nodes");
}

}  // namespace

Result<LookupResult> LookupResources(const DirectorySnapshot& snap, const LookupResourcesRequest& req,
                                     const CheckLimits& limits) {
  const Model& model = snap.model();
  auto ot = TypeSymbol(model, "object_type", req.object_type);
  if (!ot.ok()) return ot.status();
  auto perm = MemberSymbol(model, *ot, "permission", req.permission);
  if (!perm.ok()) return perm.status();
  auto st = TypeSymbol(model, "subject_type", req.subject_type);
  if (!st.ok()) return st.status();
  Symbol srel = 0;
  if (!req.subject_relation.empty()) {
    auto s = MemberSymbol(model, *st, "subject_relation", req.subject_relation);
    if (!s.ok()) return s.status();
    srel = *s;
  }
  if (req.subject_id.empty()) return Status::InvalidArgument("subject_id: required");
  LookupResult result;
  // A subject the directory has never seen still gets what wildcards grant.
  uint32_t sid = ResolveId(snap, req.subject_type, req.subject_id).value_or(kUnknownId);
  const auto& reverse = snap.reverse();
  NodeQueue queue(limits.max_visits);
  bool overflow = false;
  // Every (object, relation) whose stored subjects include `t:id#name`.
  auto push_referrers = [&](Symbol t, uint32_t id, Symbol name) {
    IndexKey from = DirectorySnapshot::ReverseKey(t, id, name, 0, 0, 0);
    uint64_t hi = DirectorySnapshot::Hi(from);
    reverse.ScanFrom(from, [&](IndexKey k, const Unit&) {
      if (DirectorySnapshot::Hi(k) != hi) return false;
      uint64_t lo = DirectorySnapshot::Lo(k);
      if (!queue.Push(static_cast<Symbol>(lo >> 48), static_cast<uint32_t>(lo), static_cast<Symbol>((lo >> 32) & 0xffff))) {
        overflow = true;
        return false;
      }
      return true;
    });
  };
  if (srel != 0) {
    if (!queue.Push(*st, sid, srel)) return FanOut(limits);
  } else {
    if (sid != kUnknownId) push_referrers(*st, sid, 0);
    if (snap.wildcard_id() != 0) push_referrers(*st, snap.wildcard_id(), 0);
  }
  std::vector<uint32_t> found;
  NodeQueue::Item node;
  while (!overflow && queue.Pop(node)) {
    if (node.type == *ot && node.name == *perm && node.id != kUnknownId) found.push_back(node.id);
    push_referrers(node.type, node.id, node.name);
    for (Symbol p : model.PermissionsUsing(node.type, node.name)) {
      if (!queue.Push(node.type, node.id, p)) overflow = true;
    }
    for (const ArrowUse& a : model.ArrowsTo(node.name)) {
      IndexKey from = DirectorySnapshot::ReverseKey(node.type, node.id, 0, a.type, a.tupleset, 0);
      IndexKey to = DirectorySnapshot::ReverseKey(node.type, node.id, 0, a.type, a.tupleset, 0xffffffff);
      reverse.ScanFrom(from, [&](IndexKey k, const Unit&) {
        if (k > to) return false;
        if (!queue.Push(a.type, static_cast<uint32_t>(DirectorySnapshot::Lo(k)), a.permission)) {
          overflow = true;
          return false;
        }
        return true;
      });
    }
  }
  if (overflow) return FanOut(limits);
  const MemberDef* member = model.Member(*ot, *perm);
  std::vector<char> allowed(found.size(), 1);
  if (!member->union_only) {
    // In id order, consecutive candidates' relations sit in neighbouring index leaves.
    std::sort(found.begin(), found.end());
    WARDEN_RETURN_IF_ERROR(CheckObjects(snap, *ot, found, *perm, SubjectRef{*st, sid, srel}, limits, allowed));
  }
  std::vector<std::string> ids;
  ids.reserve(found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    if (allowed[i]) ids.emplace_back(snap.IdString(found[i]));
  }
  WARDEN_RETURN_IF_ERROR(Paginate(ids, req.page_size, req.cursor, result));
  return result;
}

Result<LookupResult> LookupSubjects(const DirectorySnapshot& snap, const LookupSubjectsRequest& req,
                                    const CheckLimits& limits) {
  const Model& model = snap.model();
  auto ot = TypeSymbol(model, "object_type", req.object_type);
  if (!ot.ok()) return ot.status();
  auto perm = MemberSymbol(model, *ot, "permission", req.permission);
  if (!perm.ok()) return perm.status();
  auto st = TypeSymbol(model, "subject_type", req.subject_type);
  if (!st.ok()) return st.status();
  if (req.object_id.empty()) return Status::InvalidArgument("object_id: required");
  LookupResult result;
  auto oid = ResolveId(snap, req.object_type, req.object_id);
  if (!oid) {
    WARDEN_RETURN_IF_ERROR(Paginate(result.ids, req.page_size, req.cursor, result));
    return result;
  }
  const auto& forward = snap.forward();
  uint32_t wildcard = snap.wildcard_id();
  NodeQueue queue(limits.max_visits);
  if (!queue.Push(*ot, *oid, *perm)) return FanOut(limits);
  std::unordered_set<uint32_t> found;
  bool overflow = false;
  NodeQueue::Item node;
  std::vector<const Expr*> stack;
  while (!overflow && queue.Pop(node)) {
    const MemberDef* member = model.Member(node.type, node.name);
    if (member == nullptr) continue;
    if (member->kind == MemberDef::Kind::kRelation) {
      IndexKey from = DirectorySnapshot::ForwardKey(node.type, node.id, node.name, 0, 0, 0);
      uint64_t hi = DirectorySnapshot::Hi(from);
      forward.ScanFrom(from, [&](IndexKey k, const Unit&) {
        if (DirectorySnapshot::Hi(k) != hi) return false;
        uint64_t lo = DirectorySnapshot::Lo(k);
        Symbol srel = static_cast<Symbol>(lo >> 48);
        Symbol t = static_cast<Symbol>((lo >> 32) & 0xffff);
        uint32_t id = static_cast<uint32_t>(lo);
        if (srel != 0) {
          if (!queue.Push(t, id, srel)) overflow = true;
        } else if (t == *st) {
          if (id == wildcard && wildcard != 0) {
            result.wildcard = true;
          } else {
            found.insert(id);
          }
        }
        return !overflow;
      });
      continue;
    }
    stack.assign(1, &member->expr);
    while (!stack.empty() && !overflow) {
      const Expr* e = stack.back();
      stack.pop_back();
      if (e->kind == ExprAst::Kind::kRef) {
        if (!queue.Push(node.type, node.id, e->name)) overflow = true;
      } else if (e->kind == ExprAst::Kind::kArrow) {
        IndexKey from = DirectorySnapshot::ForwardKey(node.type, node.id, e->name, 0, 0, 0);
        IndexKey to = DirectorySnapshot::ForwardKey(node.type, node.id, e->name, 1, 0, 0);
        forward.ScanFrom(from, [&](IndexKey k, const Unit&) {
          if (k >= to) return false;
          uint64_t lo = DirectorySnapshot::Lo(k);
          Symbol t = static_cast<Symbol>((lo >> 32) & 0xffff);
          uint32_t id = static_cast<uint32_t>(lo);
          if (id == wildcard && wildcard != 0) return true;
          if (model.Member(t, e->target) != nullptr && !queue.Push(t, id, e->target)) overflow = true;
          return !overflow;
        });
      } else {
        for (const Expr& c : e->children) stack.push_back(&c);
      }
    }
  }
  if (overflow) return FanOut(limits);
  if (result.wildcard) {
    // Every known subject of the type: object records and relation endpoints.
    uint64_t obj_lo = DirectorySnapshot::ObjectKey(*st, 0), obj_hi = DirectorySnapshot::ObjectKey(*st, 0xffffffff);
    snap.objects().ScanFrom(obj_lo, [&](uint64_t k, const auto&) {
      if (k > obj_hi) return false;
      found.insert(static_cast<uint32_t>(k));
      return true;
    });
    auto collect = [&](const DirectorySnapshot::KeySet& set) {
      IndexKey from = static_cast<IndexKey>(static_cast<uint64_t>(*st) << 48) << 64;
      set.ScanFrom(from, [&](IndexKey k, const Unit&) {
        uint64_t hi = DirectorySnapshot::Hi(k);
        if ((hi >> 48) != *st) return false;
        found.insert(static_cast<uint32_t>(hi >> 16));
        return true;
      });
    };
    collect(forward);
    collect(snap.reverse());
    found.erase(wildcard);
  }
  const MemberDef* member = model.Member(*ot, *perm);
  std::vector<std::string> ids;
  ids.reserve(found.size());
  for (uint32_t sid : found) {
    if (!member->union_only) {
      auto ok = CheckInterned(snap, *ot, *oid, *perm, SubjectRef{*st, sid, 0}, limits);
      if (!ok.ok()) return ok.status();
      if (!*ok) continue;
    }
    ids.emplace_back(snap.IdString(sid));
  }
  WARDEN_RETURN_IF_ERROR(Paginate(ids, req.page_size, req.cursor, result));
  return result;
}

Result<nlohmann::json> Expand(const DirectorySnapshot& snap, const std::string& object_type, const std::string& object_id,
                              const std::string& permission) {
  const Model& model = snap.model();
  auto ot = TypeSymbol(model, "object_type", object_type);
  if (!ot.ok()) return ot.status();
  auto perm = MemberSymbol(model, *ot, "permission", permission);
  if (!perm.ok()) return perm.status();
  if (object_id.empty()) return Status::InvalidArgument("object_id: required");
  auto oid = ResolveId(snap, object_type, object_id);
  auto subjects_of = [&](Symbol rel, bool direct_only) {
    nlohmann::json list = nlohmann::json::array();
    if (!oid) return list;
    IndexKey from = DirectorySnapshot::ForwardKey(*ot, *oid, rel, 0, 0, 0);
    uint64_t hi = DirectorySnapshot::Hi(from);
    snap.forward().ScanFrom(from, [&](IndexKey k, const Unit&) {
      if (DirectorySnapshot::Hi(k) != hi) return false;
      uint64_t lo = DirectorySnapshot::Lo(k);
      Symbol srel = static_cast<Symbol>(lo >> 48);
      if (direct_only && srel != 0) return false;
      std::string s(model.Name(static_cast<Symbol>((lo >> 32) & 0xffff)));
      s.push_back(':');
      s.append(snap.IdString(static_cast<uint32_t>(lo)));
      if (srel != 0) {
        s.push_back('#');
        s.append(model.Name(srel));
      }
      list.push_back(std::move(s));
      return true;
    });
    return list;
  };
  auto node_of = [&](const Expr& e, auto& self) -> nlohmann::json {
    switch (e.kind) {
      case ExprAst::Kind::kRef: {
        const MemberDef* m = model.Member(*ot, e.name);
        if (m->kind == MemberDef::Kind::kRelation) {
          return {{"relation", std::string(model.Name(e.name))}, {"subjects", subjects_of(e.name, false)}};
        }
        return {{"permission", std::string(model.Name(e.name))},
                {"subjects", nlohmann::json::array({object_type + ":" + object_id + "#" + std::string(model.Name(e.name))})}};
      }
      case ExprAst::Kind::kArrow: {
        nlohmann::json targets = nlohmann::json::array();
        for (const auto& s : subjects_of(e.name, true)) {
          targets.push_back(s.get<std::string>() + "#" + std::string(model.Name(e.target)));
        }
        return {{"arrow", std::string(model.Name(e.name)) + "->" + std::string(model.Name(e.target))},
                {"subjects", std::move(targets)}};
      }
      default: {
        nlohmann::json children = nlohmann::json::array();
        for (const Expr& c : e.children) children.push_back(self(c, self));
        const char* op = e.kind == ExprAst::Kind::kUnion ? "union"
                         : e.kind == ExprAst::Kind::kIntersection ? "intersection" : "exclusion";
        return {{op, std::move(children)}};
      }
    }
  };
  const MemberDef* member = model.Member(*ot, *perm);
  nlohmann::json tree;
  if (member->kind == MemberDef::Kind::kRelation) {
    tree = {{"relation", permission}, {"subjects", subjects_of(*perm, false)}};
  } else {
    tree = node_of(member->expr, node_of);
  }
  return nlohmann::json{{"object", object_type + ":" + object_id}, {"permission", permission}, {"tree", std::move(tree)}};
}

}  // namespace warden::directory
