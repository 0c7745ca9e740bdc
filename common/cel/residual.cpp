#include "common/cel/residual.h"

#include <nlohmann/json.hpp>

namespace warden::cel {

struct Residual::Node {
  Kind kind = Kind::kValue;
  Value value;
  std::string name;  // variable path or operator
  std::vector<Residual> operands;
};

Residual::Residual() : node_(std::make_shared<const Node>()) {}
Residual::Residual(std::shared_ptr<const Node> node) : node_(std::move(node)) {}

Residual Residual::Known(Value value) {
  auto n = std::make_shared<Node>();
  n->kind = Kind::kValue;
  n->value = std::move(value);
  return Residual(std::move(n));
}

Residual Residual::Variable(std::string path) {
  auto n = std::make_shared<Node>();
  n->kind = Kind::kVariable;
  n->name = std::move(path);
  return Residual(std::move(n));
}

Residual Residual::Call(std::string op, std::vector<Residual> operands) {
  auto n = std::make_shared<Node>();
  n->kind = Kind::kCall;
  n->name = std::move(op);
  n->operands = std::move(operands);
  return Residual(std::move(n));
}

namespace {
bool IsBool(const Residual& r, bool b) {
  return r.is_known() && r.value().kind() == warden::cel::Kind::kBool && r.value().bool_value() == b;
}
}  // namespace

Residual Residual::And(Residual a, Residual b) {
  if (IsBool(a, false) || IsBool(b, false)) return Known(Value::Bool(false));
  if (IsBool(a, true)) return b;
  if (IsBool(b, true)) return a;
  if (a.is_known() && b.is_known()) {
    // Neither is a bool false; CEL keeps the first error.
    if (a.value().is_exceptional()) return a;
    if (b.value().is_exceptional()) return b;
    return Known(Value::Error("no matching overload for '_&&_'"));
  }
  return Call("and", {std::move(a), std::move(b)});
}

Residual Residual::Or(Residual a, Residual b) {
  if (IsBool(a, true) || IsBool(b, true)) return Known(Value::Bool(true));
  if (IsBool(a, false)) return b;
  if (IsBool(b, false)) return a;
  if (a.is_known() && b.is_known()) {
    if (a.value().is_exceptional()) return a;
    if (b.value().is_exceptional()) return b;
    return Known(Value::Error("no matching overload for '_||_'"));
  }
  return Call("or", {std::move(a), std::move(b)});
}

Residual Residual::Not(Residual a) {
  if (a.is_known()) {
    const Value& v = a.value();
    if (v.kind() == warden::cel::Kind::kBool) return Known(Value::Bool(!v.bool_value()));
    if (v.is_exceptional()) return a;
    return Known(Value::Error("no matching overload for '!_'"));
  }
  if (a.kind() == Kind::kCall && a.op() == "not" && a.operands().size() == 1) return a.operands()[0];
  return Call("not", {std::move(a)});
}

Residual::Kind Residual::kind() const { return node_->kind; }
bool Residual::IsTrue() const { return IsBool(*this, true); }
bool Residual::IsFalse() const { return IsBool(*this, false); }
const Value& Residual::value() const { return node_->value; }
const std::string& Residual::variable() const { return node_->name; }
const std::string& Residual::op() const { return node_->name; }
const std::vector<Residual>& Residual::operands() const { return node_->operands; }

std::string Residual::DebugString() const {
  switch (kind()) {
    case Kind::kValue: return value().DebugString();
    case Kind::kVariable: return variable();
    case Kind::kCall: {
      static const std::pair<const char*, const char*> kInfix[] = {
          {"eq", "=="}, {"ne", "!="}, {"lt", "<"},   {"le", "<="}, {"gt", ">"},  {"ge", ">="},
          {"in", "in"}, {"and", "&&"}, {"or", "||"}, {"add", "+"}, {"sub", "-"}, {"mult", "*"},
          {"div", "/"}, {"mod", "%"}};
      if (operands().size() == 2) {
        for (const auto& [name, sym] : kInfix) {
          if (op() == name) {
            return "(" + operands()[0].DebugString() + " " + sym + " " + operands()[1].DebugString() + ")";
          }
        }
      }
      if (op() == "not" && operands().size() == 1) return "!" + operands()[0].DebugString();
      std::string out = op() + "(";
      for (size_t i = 0; i < operands().size(); ++i) {
        if (i) out += ", ";
        out += operands()[i].DebugString();
      }
      return out + ")";
    }
  }
  return "?";
}

nlohmann::json ToPlanJson(const Residual& r) {
  switch (r.kind()) {
    case Residual::Kind::kValue: return nlohmann::json{{"value", ToJson(r.value())}};
    case Residual::Kind::kVariable: return nlohmann::json{{"variable", r.variable()}};
    case Residual::Kind::kCall: {
      nlohmann::json operands = nlohmann::json::array();
      for (const auto& o : r.operands()) operands.push_back(ToPlanJson(o));
      return nlohmann::json{{"expression", {{"operator", r.op()}, {"operands", std::move(operands)}}}};
    }
  }
  return nullptr;
}

}  // namespace warden::cel
