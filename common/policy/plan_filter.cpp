#include "common/policy/plan_filter.h"

#include <algorithm>
#include <map>
#include <memory>

#include <re2/re2.h>

namespace warden::policy {

namespace {

using json = nlohmann::json;

FilterValue Err(std::string m) { return {true, std::move(m), nullptr}; }
FilterValue Val(json v) { return {false, {}, std::move(v)}; }

// A hierarchy value is kept as {"$hierarchy": [segments]}.
bool IsHierarchy(const json& v) { return v.is_object() && v.size() == 1 && v.contains("$hierarchy"); }

bool Contains(const json& list, const json& v) {
  return std::any_of(list.begin(), list.end(), [&](const json& e) { return e == v; });
}

size_t Utf8Length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

class Evaluator {
 public:
  explicit Evaluator(const json& resource) : resource_(resource) {}

  FilterValue Eval(const json& node, int depth = 0) {
    if (depth > 200) return Err("filter nested too deeply");
    if (!node.is_object()) return Err("filter node must be an object");
    if (node.contains("value")) return Val(node["value"]);
    if (node.contains("variable")) return Variable(node["variable"].get<std::string>());
    if (!node.contains("expression")) return Err("filter node needs value, variable or expression");
    const json& e = node["expression"];
    if (!e.is_object() || !e.contains("operator") || !e["operator"].is_string()) {
      return Err("expression needs an operator");
    }
    const std::string op = e["operator"].get<std::string>();
    const json operands = e.value("operands", json::array());
    if (!operands.is_array()) return Err("operands must be a list");
    return Call(op, operands, depth);
  }

 private:
  FilterValue Variable(const std::string& path) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
      const size_t dot = path.find('.', start);
      parts.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    const json* cur = nullptr;
    size_t i = 0;
    if (auto it = env_.find(parts[0]); it != env_.end()) {
      cur = &it->second;
      i = 1;
    } else if (parts.size() >= 2 && parts[0] == "request" && parts[1] == "resource") {
      cur = &resource_;
      i = 2;
    } else {
      return Err("unknown variable '" + path + "'");
    }
    for (; i < parts.size(); ++i) {
      if (!cur->is_object() || !cur->contains(parts[i])) return Err("no such key: " + parts[i]);
      cur = &(*cur)[parts[i]];
    }
    return Val(*cur);
  }

  FilterValue Call(const std::string& op, const json& ops, int depth) {
    if (op == "and" || op == "or") {
      const bool is_and = op == "and";
      bool saw_error = false;
      std::string msg;
      for (const auto& o : ops) {
        FilterValue v = Eval(o, depth + 1);
        if (!v.error && !v.value.is_boolean()) v = Err("no matching overload for " + op);
        if (v.error) {
          saw_error = true;
          msg = v.message;
          continue;
        }
        if (v.value.get<bool>() != is_and) return Val(!is_and);
      }
      if (saw_error) return Err(msg);
      return Val(is_and);
    }
    if (op == "lambda") return Err("lambda outside a comprehension");
    if (op == "exists" || op == "all" || op == "exists_one" || op == "filter" || op == "map") {
      return Comprehension(op, ops, depth);
    }
    std::vector<FilterValue> args;
    for (const auto& o : ops) {
      args.push_back(Eval(o, depth + 1));
      if (args.back().error) return args.back();
    }
    auto arg = [&](size_t i) -> const json& { return args[i].value; };
    auto need = [&](size_t n) { return args.size() == n; };
    if (op == "not") {
      if (!need(1) || !arg(0).is_boolean()) return Err("no matching overload for not");
      return Val(!arg(0).get<bool>());
    }
    if (op == "eq" || op == "ne") {
      if (!need(2)) return Err(op + " needs two operands");
      const bool eq = arg(0) == arg(1);
      return Val(op == "eq" ? eq : !eq);
    }
    if (op == "lt" || op == "le" || op == "gt" || op == "ge") {
      if (!need(2)) return Err(op + " needs two operands");
      int cmp;
      if (arg(0).is_number() && arg(1).is_number()) {
        const double a = arg(0).get<double>(), b = arg(1).get<double>();
        cmp = a < b ? -1 : a > b ? 1 : 0;
      } else if (arg(0).is_string() && arg(1).is_string()) {
        cmp = arg(0).get<std::string>().compare(arg(1).get<std::string>());
      } else {
        return Err("no matching overload for " + op);
      }
      if (op == "lt") return Val(cmp < 0);
      if (op == "le") return Val(cmp <= 0);
      if (op == "gt") return Val(cmp > 0);
      return Val(cmp >= 0);
    }
    if (op == "in") {
      if (!need(2)) return Err("in needs two operands");
      if (arg(1).is_array()) return Val(Contains(arg(1), arg(0)));
      if (arg(1).is_object() && arg(0).is_string()) return Val(arg(1).contains(arg(0).get<std::string>()));
      return Err("no matching overload for in");
    }
    if (op == "add" || op == "sub" || op == "mult" || op == "div" || op == "mod") {
      if (!need(2)) return Err(op + " needs two operands");
      if (op == "add" && arg(0).is_string() && arg(1).is_string()) {
        return Val(arg(0).get<std::string>() + arg(1).get<std::string>());
      }
      if (op == "add" && arg(0).is_array() && arg(1).is_array()) {
        json r = arg(0);
        for (const auto& x : arg(1)) r.push_back(x);
        return Val(r);
      }
      if (!arg(0).is_number() || !arg(1).is_number()) return Err("no matching overload for " + op);
      const double a = arg(0).get<double>(), b = arg(1).get<double>();
      if (op == "add") return Val(a + b);
      if (op == "sub") return Val(a - b);
      if (op == "mult") return Val(a * b);
      if (b == 0) return Err("division by zero");
      if (op == "div") return Val(a / b);
      return Val(static_cast<double>(static_cast<long long>(a) % static_cast<long long>(b)));
    }
    if (op == "index") {
      if (!need(2)) return Err("index needs two operands");
      if (arg(0).is_object() && arg(1).is_string()) {
        if (!arg(0).contains(arg(1).get<std::string>())) return Err("no such key");
        return Val(arg(0)[arg(1).get<std::string>()]);
      }
      if (arg(0).is_array() && arg(1).is_number()) {
        const double i = arg(1).get<double>();
        if (i < 0 || i >= static_cast<double>(arg(0).size())) return Err("index out of range");
        return Val(arg(0)[static_cast<size_t>(i)]);
      }
      return Err("no matching overload for index");
    }
    if (op == "list") {
      json r = json::array();
      for (const auto& a : args) r.push_back(a.value);
      return Val(r);
    }
    if (op == "size") {
      if (!need(1)) return Err("size needs one operand");
      if (arg(0).is_string()) return Val(Utf8Length(arg(0).get<std::string>()));
      if (arg(0).is_array() || arg(0).is_object()) return Val(arg(0).size());
      return Err("no matching overload for size");
    }
    if (op == "startsWith" || op == "endsWith" || op == "contains" || op == "matches") {
      if (!need(2) || !arg(0).is_string() || !arg(1).is_string()) return Err("no matching overload for " + op);
      const std::string s = arg(0).get<std::string>(), t = arg(1).get<std::string>();
      if (op == "startsWith") return Val(s.rfind(t, 0) == 0);
      if (op == "endsWith") return Val(s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0);
      if (op == "contains") return Val(s.find(t) != std::string::npos);
      RE2 re(t, RE2::Quiet);
      if (!re.ok()) return Err("invalid regular expression");
      return Val(RE2::PartialMatch(s, re));
    }
    if (op == "lowerAscii" || op == "upperAscii") {
      if (!need(1) || !arg(0).is_string()) return Err("no matching overload for " + op);
      std::string s = arg(0).get<std::string>();
      for (char& c : s) c = op == "lowerAscii" ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                                               : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return Val(s);
    }
    if (op == "hasIntersection" || op == "isSubset" || op == "intersect" || op == "except") {
      if (!need(2) || !arg(0).is_array() || !arg(1).is_array()) return Err("no matching overload for " + op);
      if (op == "hasIntersection") {
        return Val(std::any_of(arg(0).begin(), arg(0).end(), [&](const json& x) { return Contains(arg(1), x); }));
      }
      if (op == "isSubset") {
        return Val(std::all_of(arg(0).begin(), arg(0).end(), [&](const json& x) { return Contains(arg(1), x); }));
      }
      json r = json::array();
      for (const auto& x : arg(0)) {
        if (Contains(arg(1), x) == (op == "intersect") && !Contains(r, x)) r.push_back(x);
      }
      return Val(r);
    }
    if (op == "hierarchy") {
      if (args.empty() || args.size() > 2 || !arg(0).is_string()) return Err("no matching overload for hierarchy");
      const std::string sep = args.size() == 2 && arg(1).is_string() ? arg(1).get<std::string>() : ".";
      if (sep.empty()) return Err("empty hierarchy separator");
      json parts = json::array();
      const std::string s = arg(0).get<std::string>();
      size_t start = 0;
      while (true) {
        const size_t at = s.find(sep, start);
        parts.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
        if (at == std::string::npos) break;
        start = at + sep.size();
      }
      return Val(json{{"$hierarchy", parts}});
    }
    if (op == "ancestorOf" || op == "descendentOf" || op == "immediateChildOf" || op == "immediateParentOf" ||
        op == "overlaps" || op == "siblingOf") {
      if (!need(2) || !IsHierarchy(arg(0)) || !IsHierarchy(arg(1))) return Err("no matching overload for " + op);
      const json& a = arg(0)["$hierarchy"];
      const json& b = arg(1)["$hierarchy"];
      auto prefix = [](const json& p, const json& q) {  // p is a prefix of q
        if (p.size() > q.size()) return false;
        for (size_t i = 0; i < p.size(); ++i) {
          if (p[i] != q[i]) return false;
        }
        return true;
      };
      if (op == "ancestorOf") return Val(a.size() < b.size() && prefix(a, b));
      if (op == "descendentOf") return Val(b.size() < a.size() && prefix(b, a));
      if (op == "immediateChildOf") return Val(a.size() == b.size() + 1 && prefix(b, a));
      if (op == "immediateParentOf") return Val(b.size() == a.size() + 1 && prefix(a, b));
      if (op == "overlaps") return Val(prefix(a, b) || prefix(b, a));
      // siblingOf: same parent, different self
      if (a.size() != b.size() || a.size() < 2 || a == b) return Val(false);
      for (size_t i = 0; i + 1 < a.size(); ++i) {
        if (a[i] != b[i]) return Val(false);
      }
      return Val(true);
    }
    return Err("unsupported operator '" + op + "'");
  }

  FilterValue Comprehension(const std::string& op, const json& ops, int depth) {
    if (ops.size() != 2) return Err(op + " needs a range and a lambda");
    FilterValue range = Eval(ops[0], depth + 1);
    if (range.error) return range;
    const json& lambda = ops[1];
    if (!lambda.contains("expression") || lambda["expression"].value("operator", "") != "lambda") {
      return Err(op + " needs a lambda");
    }
    const json& lops = lambda["expression"]["operands"];
    if (!lops.is_array() || lops.size() != 2 || !lops[1].contains("variable")) return Err("malformed lambda");
    const json& body = lops[0];
    const std::string var = lops[1]["variable"].get<std::string>();
    json items = json::array();
    if (range.value.is_array()) {
      items = range.value;
    } else if (range.value.is_object()) {
      for (auto& [k, v] : range.value.items()) items.push_back(k);
    } else {
      return Err("no matching overload for " + op);
    }
    const auto saved = env_.find(var) != env_.end() ? std::optional<json>(env_[var]) : std::nullopt;
    FilterValue result;
    json collected = json::array();
    size_t count = 0;
    bool saw_error = false;
    std::string msg;
    bool decided = false;
    for (const auto& item : items) {
      env_[var] = item;
      FilterValue v = Eval(body, depth + 1);
      if (op == "map") {
        if (v.error) {
          result = v;
          decided = true;
          break;
        }
        collected.push_back(v.value);
        continue;
      }
      if (!v.error && !v.value.is_boolean()) v = Err("predicate is not a bool");
      if (op == "filter") {
        if (v.error) {
          result = v;
          decided = true;
          break;
        }
        if (v.value.get<bool>()) collected.push_back(item);
        continue;
      }
      if (v.error) {
        saw_error = true;
        msg = v.message;
        continue;
      }
      const bool b = v.value.get<bool>();
      if (op == "exists" && b) {
        result = Val(true);
        decided = true;
        break;
      }
      if (op == "all" && !b) {
        result = Val(false);
        decided = true;
        break;
      }
      if (op == "exists_one" && b) ++count;
    }
    if (saved) {
      env_[var] = *saved;
    } else {
      env_.erase(var);
    }
    if (decided) return result;
    if (op == "map" || op == "filter") return Val(collected);
    if (saw_error) return Err(msg);
    if (op == "exists") return Val(false);
    if (op == "all") return Val(true);
    return Val(count == 1);
  }

  const json& resource_;
  std::map<std::string, json> env_;
};

}  // namespace

FilterValue EvaluateFilterCondition(const nlohmann::json& condition, const nlohmann::json& resource) {
  Evaluator e(resource);
  return e.Eval(condition);
}

Result<bool> FilterAdmits(const nlohmann::json& filter, const nlohmann::json& resource) {
  if (!filter.is_object() || !filter.contains("kind") || !filter["kind"].is_string()) {
    return Status::InvalidArgument("filter.kind: must be a string");
  }
  const std::string kind = filter["kind"].get<std::string>();
  if (kind == "KIND_ALWAYS_ALLOWED") return true;
  if (kind == "KIND_ALWAYS_DENIED") return false;
  if (kind != "KIND_CONDITIONAL") return Status::InvalidArgument("filter.kind: unknown kind '" + kind + "'");
  if (!filter.contains("condition")) return Status::InvalidArgument("filter.condition: required for KIND_CONDITIONAL");
  const FilterValue v = EvaluateFilterCondition(filter["condition"], resource);
  return !v.error && v.value.is_boolean() && v.value.get<bool>();
}

}  // namespace warden::policy
