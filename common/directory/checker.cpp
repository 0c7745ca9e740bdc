#include "common/directory/checker.h"

#include <algorithm>
#include <climits>

namespace warden::directory {
namespace {

constexpr int kNoCycle = INT_MAX;

// Per-thread open-addressing table of node states, reused across checks (cleared by bumping a
// generation number, so a check does not pay for the previous one's size).
class VisitTable {
 public:
  enum State : uint8_t { kUnknown = 0, kInProgress, kTrue, kFalse };
  struct Slot {
    uint64_t key;
    uint32_t gen;
    State state;
    uint8_t unused;
    uint16_t depth;  // hops from the check's object; CheckLimits caps it well below 65535
  };

  void Reset() {
    if (++gen_ == 0) {
      for (Slot& s : slots_) s.gen = 0;
      gen_ = 1;
    }
    used_ = 0;
  }

  // The slot of `key`, created empty if absent. The index stays valid until the table grows
  // (growths() changes).
  size_t Get(uint64_t key) {
    if ((used_ + 1) * 2 > slots_.size()) Grow();
    size_t mask = slots_.size() - 1;
    size_t i = Hash(key) & mask;
    for (;;) {
      Slot& s = slots_[i];
      if (s.gen != gen_) {
        s = Slot{key, gen_, kUnknown, 0, 0};
        ++used_;
        return i;
      }
      if (s.key == key) return i;
      i = (i + 1) & mask;
    }
  }
  Slot& At(size_t i) { return slots_[i]; }
  uint64_t growths() const { return growths_; }

 private:
  static size_t Hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return static_cast<size_t>(k);
  }
  void Grow() {
    ++growths_;
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<size_t>(1024, old.size() * 2), Slot{0, 0, kUnknown, 0, 0});
    size_t mask = slots_.size() - 1;
    uint32_t gen = gen_;
    for (const Slot& s : old) {
      if (s.gen != gen) continue;
      size_t i = Hash(s.key) & mask;
      while (slots_[i].gen == gen) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  uint32_t gen_ = 1;
  size_t used_ = 0;
  uint64_t growths_ = 0;
};

struct Outcome {
  bool value;
  int low;  // shallowest in-progress node this answer assumed false; kNoCycle if none
};

class Walk {
 public:
  Walk(const DirectorySnapshot& snap, SubjectRef subject, const CheckLimits& limits, std::vector<std::string>* trace,
       VisitTable& table)
      : snap_(snap), model_(snap.model()), subject_(subject), limits_(limits), trace_(trace), table_(table) {}

  Outcome Node(Symbol ot, uint32_t oid, Symbol name, int depth) {
    if (!error_.ok()) return {false, kNoCycle};
    if (ot == subject_.type && oid == subject_.id && name == subject_.relation) {
      if (trace_ != nullptr) trace_->push_back(Describe(ot, oid, name) + " is the subject");
      return {true, kNoCycle};
    }
    if (depth > std::min(limits_.max_depth, 10000)) {
      error_ = Status::ResourceExhausted("check exceeded the depth limit of " +
                                         std::to_string(std::min(limits_.max_depth, 10000)) + " hops");
      return {false, kNoCycle};
    }
    if (++visits_ > limits_.max_visits) {
      error_ = Status::ResourceExhausted("check exceeded the fan-out limit of " + std::to_string(limits_.max_visits) +
                                         " visited nodes");
      return {false, kNoCycle};
    }
    const MemberDef* member = model_.Member(ot, name);
    if (member == nullptr) return {false, kNoCycle};  // e.g. a userset naming a member this type lacks
    uint64_t key = static_cast<uint64_t>(ot) << 48 | static_cast<uint64_t>(oid) << 16 | name;
    size_t index = table_.Get(key);
    uint64_t growths = table_.growths();
    {
      VisitTable::Slot& slot = table_.At(index);
      switch (slot.state) {
        case VisitTable::kTrue:
          if (trace_ != nullptr) trace_->push_back(Describe(ot, oid, name));
          return {true, kNoCycle};
        case VisitTable::kFalse:
          return {false, kNoCycle};
        case VisitTable::kInProgress:
          return {false, slot.depth};
        case VisitTable::kUnknown:
          slot.state = VisitTable::kInProgress;
          slot.depth = static_cast<uint16_t>(depth);
          break;
      }
    }
    size_t mark = trace_ != nullptr ? trace_->size() : 0;
    Outcome out = member->kind == MemberDef::Kind::kRelation ? Relation(ot, oid, name, depth)
                                                             : Expression(member->expr, ot, oid, depth);
    // The table may have grown during the walk, moving the slot.
    if (table_.growths() != growths) index = table_.Get(key);
    VisitTable::Slot& slot = table_.At(index);
    if (out.value) {
      slot.state = VisitTable::kTrue;
      if (trace_ != nullptr && member->kind == MemberDef::Kind::kPermission) trace_->push_back(Describe(ot, oid, name));
      return {true, kNoCycle};
    }
    if (trace_ != nullptr) trace_->resize(mark);
    if (out.low >= depth) {
      // Everything this answer assumed was inside this node's own evaluation: it is final.
      slot.state = VisitTable::kFalse;
      return {false, kNoCycle};
    }
    slot.state = VisitTable::kUnknown;  // provisional: depends on a node still being evaluated
    return out;
  }

  const Status& error() const { return error_; }
  size_t visits() const { return visits_; }
  void ResetBudget() { visits_ = 0; }

 private:
  std::string Describe(Symbol ot, uint32_t oid, Symbol name) const {
    std::string s(model_.Name(ot));
    s.push_back(':');
    s.append(snap_.IdString(oid));
    s.push_back('#');
    s.append(model_.Name(name));
    return s;
  }
  std::string DescribeTuple(Symbol ot, uint32_t oid, Symbol rel, Symbol st, uint32_t sid, Symbol srel) const {
    std::string s = Describe(ot, oid, rel);
    s.push_back('@');
    s.append(model_.Name(st));
    s.push_back(':');
    s.append(snap_.IdString(sid));
    if (srel != 0) {
      s.push_back('#');
      s.append(model_.Name(srel));
    }
    return s;
  }

  Outcome Relation(Symbol ot, uint32_t oid, Symbol rel, int depth) {
    const auto& forward = snap_.forward();
    if (forward.Contains(DirectorySnapshot::ForwardKey(ot, oid, rel, subject_.relation, subject_.type, subject_.id))) {
      if (trace_ != nullptr) {
        trace_->push_back(DescribeTuple(ot, oid, rel, subject_.type, subject_.id, subject_.relation));
      }
      return {true, kNoCycle};
    }
    uint32_t wildcard = snap_.wildcard_id();
    if (subject_.relation == 0 && wildcard != 0 &&
        forward.Contains(DirectorySnapshot::ForwardKey(ot, oid, rel, 0, subject_.type, wildcard))) {
      if (trace_ != nullptr) trace_->push_back(DescribeTuple(ot, oid, rel, subject_.type, wildcard, 0));
      return {true, kNoCycle};
    }
    // Usersets sort after direct subjects: scan from subject_relation 1.
    IndexKey from = DirectorySnapshot::ForwardKey(ot, oid, rel, 1, 0, 0);
    uint64_t hi = DirectorySnapshot::Hi(from);
    Outcome out{false, kNoCycle};
    forward.ScanFrom(from, [&](IndexKey k, const Unit&) {
      if (DirectorySnapshot::Hi(k) != hi) return false;
      uint64_t lo = DirectorySnapshot::Lo(k);
      Symbol srel = static_cast<Symbol>(lo >> 48);
      Symbol st = static_cast<Symbol>((lo >> 32) & 0xffff);
      uint32_t sid = static_cast<uint32_t>(lo);
      Outcome o = Node(st, sid, srel, depth + 1);
      out.low = std::min(out.low, o.low);
      if (o.value) {
        if (trace_ != nullptr) trace_->push_back(DescribeTuple(ot, oid, rel, st, sid, srel));
        out = {true, kNoCycle};
        return false;
      }
      return error_.ok();
    });
    return out;
  }

  Outcome Arrow(const Expr& e, Symbol ot, uint32_t oid, int depth) {
    // Follow direct subjects (objects) of the tupleset relation; usersets are not followed,
    // as in SpiceDB.
    IndexKey from = DirectorySnapshot::ForwardKey(ot, oid, e.name, 0, 0, 0);
    IndexKey to = DirectorySnapshot::ForwardKey(ot, oid, e.name, 1, 0, 0);
    uint32_t wildcard = snap_.wildcard_id();
    Outcome out{false, kNoCycle};
    snap_.forward().ScanFrom(from, [&](IndexKey k, const Unit&) {
      if (k >= to) return false;
      uint64_t lo = DirectorySnapshot::Lo(k);
      Symbol st = static_cast<Symbol>((lo >> 32) & 0xffff);
      uint32_t sid = static_cast<uint32_t>(lo);
      if (sid == wildcard && wildcard != 0) return true;
      Outcome o = Node(st, sid, e.target, depth + 1);
      out.low = std::min(out.low, o.low);
      if (o.value) {
        if (trace_ != nullptr) trace_->push_back(DescribeTuple(ot, oid, e.name, st, sid, 0));
        out = {true, kNoCycle};
        return false;
      }
      return error_.ok();
    });
    return out;
  }

  Outcome Expression(const Expr& e, Symbol ot, uint32_t oid, int depth) {
    switch (e.kind) {
      case ExprAst::Kind::kRef:
        return Node(ot, oid, e.name, depth + 1);
      case ExprAst::Kind::kArrow:
        return Arrow(e, ot, oid, depth);
      case ExprAst::Kind::kUnion: {
        Outcome out{false, kNoCycle};
        for (const Expr& c : e.children) {
          Outcome o = Expression(c, ot, oid, depth);
          if (o.value) return {true, kNoCycle};
          out.low = std::min(out.low, o.low);
          if (!error_.ok()) break;
        }
        return out;
      }
      case ExprAst::Kind::kIntersection: {
        size_t mark = trace_ != nullptr ? trace_->size() : 0;
        int low = kNoCycle;
        for (const Expr& c : e.children) {
          Outcome o = Expression(c, ot, oid, depth);
          low = std::min(low, o.low);
          if (!o.value) {
            if (trace_ != nullptr) trace_->resize(mark);
            return {false, low};
          }
        }
        return {true, low};
      }
      case ExprAst::Kind::kExclusion: {
        Outcome left = Expression(e.children[0], ot, oid, depth);
        if (!left.value) return left;
        size_t mark = trace_ != nullptr ? trace_->size() : 0;
        Outcome right = Expression(e.children[1], ot, oid, depth);
        if (trace_ != nullptr) trace_->resize(mark);
        int low = std::min(left.low, right.low);
        if (right.value) {
          if (trace_ != nullptr) trace_->push_back("excluded by " + Describe(ot, oid, e.children[1].name));
          return {false, low};
        }
        return {true, low};
      }
    }
    return {false, kNoCycle};
  }

  const DirectorySnapshot& snap_;
  const Model& model_;
  SubjectRef subject_;
  const CheckLimits& limits_;
  std::vector<std::string>* trace_;
  VisitTable& table_;
  Status error_;
  size_t visits_ = 0;
};

VisitTable& ThreadTable() {
  thread_local VisitTable table;
  return table;
}

}  // namespace

Result<bool> CheckInterned(const DirectorySnapshot& snapshot, Symbol object_type, uint32_t object_id, Symbol name,
                           SubjectRef subject, const CheckLimits& limits, std::vector<std::string>* trace) {
  VisitTable& table = ThreadTable();
  table.Reset();
  Walk walk(snapshot, subject, limits, trace, table);
  Outcome out = walk.Node(object_type, object_id, name, 0);
  if (!walk.error().ok()) return walk.error();
  if (trace != nullptr) {
    if (out.value) {
      std::reverse(trace->begin(), trace->end());
    } else {
      trace->push_back("no path grants it (" + std::to_string(walk.visits()) + " nodes visited)");
    }
  }
  return out.value;
}

Status CheckObjects(const DirectorySnapshot& snapshot, Symbol object_type, const std::vector<uint32_t>& object_ids,
                    Symbol name, SubjectRef subject, const CheckLimits& limits, std::vector<char>& allowed) {
  VisitTable& table = ThreadTable();
  table.Reset();
  // Answers remembered in the table are about (node, this subject), so they stay true for every
  // object; only provisional answers inside cycles are not remembered, as in a single check.
  Walk walk(snapshot, subject, limits, nullptr, table);
  allowed.assign(object_ids.size(), 0);
  for (size_t i = 0; i < object_ids.size(); ++i) {
    walk.ResetBudget();
    allowed[i] = walk.Node(object_type, object_ids[i], name, 0).value;
    if (!walk.error().ok()) return walk.error();
  }
  return Status::Ok();
}

namespace {

// Check on names; allocates nothing unless `trace` is given.
Result<bool> CheckNames(const DirectorySnapshot& snapshot, std::string_view object_type, std::string_view object_id,
                        std::string_view relation, std::string_view subject_type, std::string_view subject_id,
                        std::string_view subject_relation, const CheckLimits& limits, std::vector<std::string>* trace) {
  const Model& model = snapshot.model();
  if (object_type.empty()) return Status::InvalidArgument("object_type: required");
  if (object_id.empty()) return Status::InvalidArgument("object_id: required");
  if (relation.empty()) return Status::InvalidArgument("relation: required");
  if (subject_type.empty()) return Status::InvalidArgument("subject_type: required");
  if (subject_id.empty()) return Status::InvalidArgument("subject_id: required");
  auto ot = model.FindSymbol(object_type);
  if (!ot || model.Type(*ot) == nullptr) {
    return Status::InvalidArgument("object_type: unknown type '" + std::string(object_type) + "'");
  }
  auto name = model.FindSymbol(relation);
  if (!name || model.Member(*ot, *name) == nullptr) {
    return Status::InvalidArgument("relation: type '" + std::string(object_type) + "' has no relation or permission '" +
                                   std::string(relation) + "'");
  }
  auto st = model.FindSymbol(subject_type);
  if (!st || model.Type(*st) == nullptr) {
    return Status::InvalidArgument("subject_type: unknown type '" + std::string(subject_type) + "'");
  }
  SubjectRef subject{*st, 0, 0};
  if (!subject_relation.empty()) {
    auto srel = model.FindSymbol(subject_relation);
    if (!srel || model.Member(*st, *srel) == nullptr) {
      return Status::InvalidArgument("subject_relation: type '" + std::string(subject_type) +
                                     "' has no relation or permission '" + std::string(subject_relation) + "'");
    }
    subject.relation = *srel;
  }
  // Users may be named by any identity (email, PID, ...), as subjects and as objects.
  std::optional<uint32_t> oid =
      object_type == "user" ? snapshot.ResolveUserId(object_id) : snapshot.FindId(object_id);
  if (!oid && object_type == "user") oid = snapshot.FindId(object_id);
  std::optional<uint32_t> sid = subject_type == "user" && subject_relation.empty()
                                    ? snapshot.ResolveUserId(subject_id)
                                    : snapshot.FindId(subject_id);
  if (!sid) sid = snapshot.FindId(subject_id);
  if (!oid) {
    if (trace != nullptr) trace->push_back("object is not in the directory");
    return false;
  }
  // A subject the directory has never seen can still be granted through a wildcard.
  subject.id = sid ? *sid : kUnknownId;
  return CheckInterned(snapshot, *ot, *oid, *name, subject, limits, trace);
}

}  // namespace

Result<CheckResult> Check(const DirectorySnapshot& snapshot, const CheckRequest& request, const CheckLimits& limits) {
  CheckResult result;
  auto allowed = CheckNames(snapshot, request.object_type, request.object_id, request.relation, request.subject_type,
                            request.subject_id, request.subject_relation, limits,
                            request.trace ? &result.trace : nullptr);
  if (!allowed.ok()) return allowed.status();
  result.allowed = *allowed;
  return result;
}

Result<bool> BoundedRelationOracle::Check(ObjectRef object, std::string_view relation_or_permission, ObjectRef subject,
                                          std::string_view subject_relation) const {
  return CheckNames(snapshot_, object.type, object.id, relation_or_permission, subject.type, subject.id,
                    subject_relation, limits_, nullptr);
}

Result<bool> SnapshotRelationOracle::Check(ObjectRef object, std::string_view relation_or_permission, ObjectRef subject,
                                           std::string_view subject_relation) const {
  return CheckNames(*snapshot_, object.type, object.id, relation_or_permission, subject.type, subject.id,
                    subject_relation, limits_, nullptr);
}

}  // namespace warden::directory
