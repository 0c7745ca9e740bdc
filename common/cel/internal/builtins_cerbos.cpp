// Cerbos's CEL extensions (hierarchy(), the list-set functions, inIPAddrRange, id) and Warden's
// directory check(), answered by the activation's RelationOracle.
#include <memory>

#include "common/cel/internal/builtins.h"
#include "common/cel/internal/hierarchy.h"
#include "common/cel/internal/ip.h"

namespace warden::cel::internal {
namespace {

using Args = std::span<const Value>;
using Segments = std::vector<std::string>;

class HierarchyOpaque final : public OpaqueValue {
 public:
  explicit HierarchyOpaque(Segments s) : segments_(std::move(s)) {}
  std::string_view type_name() const override { return "cerbos.lib.hierarchy"; }
  bool Equals(const OpaqueValue& other) const override {
    return static_cast<const HierarchyOpaque&>(other).segments_ == segments_;
  }
  std::string DebugString() const override {
    std::string out;
    for (size_t i = 0; i < segments_.size(); ++i) {
      if (i) out += ".";
      out += segments_[i];
    }
    return out;
  }
  const Segments& segments() const { return segments_; }

 private:
  Segments segments_;
};

Segments SplitOn(std::string_view s, std::string_view delim) {
  Segments out;
  if (delim.empty()) {
    out.emplace_back(s);
    return out;
  }
  size_t pos = 0;
  while (true) {
    size_t hit = s.find(delim, pos);
    if (hit == std::string_view::npos) break;
    out.emplace_back(s.substr(pos, hit - pos));
    pos = hit + delim.size();
  }
  out.emplace_back(s.substr(pos));
  return out;
}

Value HierarchyFn(Args a, EvalContext&, const Expr&) {
  if (a.size() == 2) {
    if (a[0].kind() != Kind::kString || a[1].kind() != Kind::kString) return NoOverload("hierarchy", a);
    return MakeHierarchy(SplitOn(a[0].string_value(), a[1].string_value()));
  }
  const Value& v = a[0];
  if (AsHierarchy(v) != nullptr) return v;
  if (v.kind() == Kind::kString) return MakeHierarchy(SplitOn(v.string_value(), "."));
  if (v.kind() == Kind::kList) {
    Segments s;
    for (const auto& item : v.list_value()) {
      if (item.kind() != Kind::kString) return Err("hierarchy(): list elements must be strings");
      s.emplace_back(item.string_value());
    }
    return MakeHierarchy(std::move(s));
  }
  return NoOverload("hierarchy", a);
}

bool IsPrefix(const Segments& shorter, const Segments& longer) {
  if (shorter.size() > longer.size()) return false;
  for (size_t i = 0; i < shorter.size(); ++i) {
    if (shorter[i] != longer[i]) return false;
  }
  return true;
}

enum class Rel { kAncestorOf, kDescendentOf, kImmediateParentOf, kImmediateChildOf, kOverlaps, kSiblingOf };

template <Rel R>
Value HierarchyRelation(Args a, EvalContext&, const Expr&) {
  const Segments* h = AsHierarchy(a[0]);
  const Segments* o = AsHierarchy(a[1]);
  if (h == nullptr || o == nullptr) return NoOverload("hierarchy relation", a);
  switch (R) {
    case Rel::kAncestorOf: return Value::Bool(o->size() > h->size() && IsPrefix(*h, *o));
    case Rel::kDescendentOf: return Value::Bool(h->size() > o->size() && IsPrefix(*o, *h));
    case Rel::kImmediateParentOf: return Value::Bool(o->size() == h->size() + 1 && IsPrefix(*h, *o));
    case Rel::kImmediateChildOf: return Value::Bool(h->size() == o->size() + 1 && IsPrefix(*o, *h));
    case Rel::kOverlaps: return Value::Bool(h->size() <= o->size() ? IsPrefix(*h, *o) : IsPrefix(*o, *h));
    case Rel::kSiblingOf: {
      if (h->size() != o->size()) return Value::Bool(false);
      for (size_t i = 0; i + 1 < h->size(); ++i) {
        if ((*h)[i] != (*o)[i]) return Value::Bool(false);
      }
      return Value::Bool(true);
    }
  }
  return Value::Bool(false);
}

Value CommonAncestors(Args a, EvalContext&, const Expr&) {
  const Segments* h = AsHierarchy(a[0]);
  const Segments* o = AsHierarchy(a[1]);
  if (h == nullptr || o == nullptr) return NoOverload("commonAncestors", a);
  // Equal-length hierarchies do not count their last segment (a node is not its own ancestor).
  size_t limit = std::min(h->size(), o->size());
  if (h->size() == o->size() && limit > 0) --limit;
  Segments out;
  for (size_t i = 0; i < limit && (*h)[i] == (*o)[i]; ++i) out.push_back((*h)[i]);
  return MakeHierarchy(std::move(out));
}

bool Contains(const ListValue& list, const Value& v) {
  for (const auto& x : list) {
    if (ValuesEqual(x, v)) return true;
  }
  return false;
}

Value Except(Args a, EvalContext& ctx, const Expr&) {
  if (a[0].kind() != Kind::kList || a[1].kind() != Kind::kList) return NoOverload("except", a);
  if (!ctx.Charge(a[0].list_value().size() * (1 + a[1].list_value().size() / 8))) return CostExceeded();
  ListValue out;
  for (const auto& v : a[0].list_value()) {
    if (!Contains(a[1].list_value(), v)) out.push_back(v);
  }
  return Value::List(std::move(out));
}

Value Intersect(Args a, EvalContext& ctx, const Expr&) {
  if (a[0].kind() != Kind::kList || a[1].kind() != Kind::kList) return NoOverload("intersect", a);
  const ListValue* shorter = &a[0].list_value();
  const ListValue* longer = &a[1].list_value();
  if (shorter->size() > longer->size()) std::swap(shorter, longer);
  if (!ctx.Charge(shorter->size() * (1 + longer->size() / 8))) return CostExceeded();
  ListValue out;
  for (const auto& v : *shorter) {
    if (Contains(*longer, v)) out.push_back(v);
  }
  return Value::List(std::move(out));
}

Value HasIntersection(Args a, EvalContext& ctx, const Expr&) {
  if (a[0].kind() != Kind::kList || a[1].kind() != Kind::kList) return NoOverload("hasIntersection", a);
  if (!ctx.Charge(a[0].list_value().size() * (1 + a[1].list_value().size() / 8))) return CostExceeded();
  for (const auto& v : a[0].list_value()) {
    if (Contains(a[1].list_value(), v)) return Value::Bool(true);
  }
  return Value::Bool(false);
}

Value IsSubset(Args a, EvalContext& ctx, const Expr&) {
  if (a[0].kind() != Kind::kList || a[1].kind() != Kind::kList) return NoOverload("isSubset", a);
  if (!ctx.Charge(a[0].list_value().size() * (1 + a[1].list_value().size() / 8))) return CostExceeded();
  for (const auto& v : a[0].list_value()) {
    if (!Contains(a[1].list_value(), v)) return Value::Bool(false);
  }
  return Value::Bool(true);
}

Value InIpAddrRange(Args a, EvalContext&, const Expr&) {
  if (a[0].kind() != Kind::kString || a[1].kind() != Kind::kString) return NoOverload("inIPAddrRange", a);
  auto ip = ParseIp(a[0].string_value());
  if (!ip) return Err("invalid IP address: " + std::string(a[0].string_value()));
  auto net = ParseCidr(a[1].string_value());
  if (!net) return Err("invalid CIDR address: " + std::string(a[1].string_value()));
  return Value::Bool(net->Masked().Contains(*ip));
}

Value Id(Args a, EvalContext&, const Expr&) { return a[0]; }

// Reads a string field of a Cerbos R/P map for check(R, relation, P).
std::optional<std::string_view> StringField(const Value& map, std::string_view key) {
  if (map.kind() != Kind::kMap) return std::nullopt;
  const Value* v = map.map_value().FindString(key);
  if (v == nullptr || v->kind() != Kind::kString) return std::nullopt;
  return v->string_value();
}

Value Check(Args a, EvalContext& ctx, const Expr&) {
  const RelationOracle* oracle = ctx.activation->oracle();
  if (oracle == nullptr) return Err("check(): no directory is available to this evaluation");
  ObjectRef object, subject;
  std::string_view relation;
  if (a.size() == 5) {
    for (const auto& v : a) {
      if (v.kind() != Kind::kString) return NoOverload("check", a);
    }
    object = {a[0].string_value(), a[1].string_value()};
    relation = a[2].string_value();
    subject = {a[3].string_value(), a[4].string_value()};
  } else {
    if (a[1].kind() != Kind::kString) return NoOverload("check", a);
    auto kind = StringField(a[0], "kind");
    auto id = StringField(a[0], "id");
    auto subject_id = StringField(a[2], "id");
    if (!kind || !id) return Err("check(): the resource needs string fields 'kind' and 'id'");
    if (!subject_id) return Err("check(): the principal needs a string field 'id'");
    object = {*kind, *id};
    relation = a[1].string_value();
    subject = {"user", *subject_id};
  }
  if (!ctx.Charge(100)) return CostExceeded();
  auto result = oracle->Check(object, relation, subject);
  if (!result.ok()) return Err("check(): " + result.status().message());
  return Value::Bool(*result);
}

}  // namespace

Value MakeHierarchy(std::vector<std::string> segments) {
  return Value::Opaque(std::make_shared<HierarchyOpaque>(std::move(segments)));
}

const std::vector<std::string>* AsHierarchy(const Value& v) {
  if (v.kind() != Kind::kOpaque || v.opaque_value().type_name() != "cerbos.lib.hierarchy") return nullptr;
  return &static_cast<const HierarchyOpaque&>(v.opaque_value()).segments();
}

void RegisterCerbosBuiltins(std::vector<Builtin>& out) {
  Builtin hierarchy{"hierarchy", true, false, 1, 2, HierarchyFn};
  hierarchy.fold = false;  // plans show hierarchy(...) calls, as Cerbos's do
  out.push_back(hierarchy);
  out.push_back({"ancestorOf", false, true, 2, 2, HierarchyRelation<Rel::kAncestorOf>});
  out.push_back({"descendentOf", false, true, 2, 2, HierarchyRelation<Rel::kDescendentOf>});
  out.push_back({"immediateParentOf", false, true, 2, 2, HierarchyRelation<Rel::kImmediateParentOf>});
  out.push_back({"immediateChildOf", false, true, 2, 2, HierarchyRelation<Rel::kImmediateChildOf>});
  out.push_back({"overlaps", false, true, 2, 2, HierarchyRelation<Rel::kOverlaps>});
  out.push_back({"siblingOf", false, true, 2, 2, HierarchyRelation<Rel::kSiblingOf>});
  out.push_back({"commonAncestors", false, true, 2, 2, CommonAncestors});
  for (const char* name : {"except"}) out.push_back({name, true, true, 2, 2, Except});
  out.push_back({"intersect", true, true, 2, 2, Intersect});
  out.push_back({"hasIntersection", true, true, 2, 2, HasIntersection});
  out.push_back({"has_intersection", true, true, 2, 2, HasIntersection});
  out.push_back({"isSubset", true, true, 2, 2, IsSubset});
  out.push_back({"is_subset", true, true, 2, 2, IsSubset});
  out.push_back({"inIPAddrRange", false, true, 2, 2, InIpAddrRange});
  out.push_back({"id", true, false, 1, 1, Id});
  Builtin check{"check", true, false, 3, 5, Check};
  check.pure = false;
  out.push_back(check);
}

}  // namespace warden::cel::internal
