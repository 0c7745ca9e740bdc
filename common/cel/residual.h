// Residual: what partial evaluation leaves of an expression when some attributes are unknown.
//
// An immutable tree of three kinds of node: a known Value, a variable (an unknown attribute,
// named by its canonical dotted path such as "request.resource.attr.ownerId"), and an operator
// applied to operands (named as Cerbos's query plans name them: eq, ne, lt, le, gt, ge, in, and,
// or, not, add, sub, mult, div, mod, index, list, size, exists, all, filter, map, lambda, ...).
// Copying a Residual shares the tree.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/cel/value.h"

namespace warden::cel {

class Residual {
 public:
  enum class Kind { kValue, kVariable, kCall };

  // A known value (the default is the known value null).
  Residual();
  static Residual Known(Value value);
  static Residual Variable(std::string path);
  static Residual Call(std::string op, std::vector<Residual> operands);

  // Boolean combinators that simplify known operands away: And(true, x) is x, And(false, x) is
  // false, Or(true, x) is true, Or(false, x) is x, Not(known b) is !b, Not(Not(x)) is x. Known
  // error operands are kept as CEL would treat them (And(error, false) is false).
  static Residual And(Residual a, Residual b);
  static Residual Or(Residual a, Residual b);
  static Residual Not(Residual a);

  Kind kind() const;
  bool is_known() const { return kind() == Kind::kValue; }
  // True when known and the value is the bool true (resp. false).
  bool IsTrue() const;
  bool IsFalse() const;

  const Value& value() const;                    // REQUIRES: kind() == kValue
  const std::string& variable() const;           // REQUIRES: kind() == kVariable
  const std::string& op() const;                 // REQUIRES: kind() == kCall
  const std::vector<Residual>& operands() const;  // REQUIRES: kind() == kCall

  // A CEL-like rendering for tests and logs, e.g. `request.resource.attr.x == "a"`.
  std::string DebugString() const;

 private:
  struct Node;
  explicit Residual(std::shared_ptr<const Node> node);
  std::shared_ptr<const Node> node_;
};

// Cerbos's plan condition JSON for a residual:
//   value     -> {"value": <json>}
//   variable  -> {"variable": "request.resource.attr.ownerId"}
//   call      -> {"expression": {"operator": "eq", "operands": [ ... ]}}
// A comprehension renders as {"operator": "exists", "operands": [<range>, {"expression":
// {"operator": "lambda", "operands": [<body>, {"variable": "x"}]}}]}, as Cerbos does.
nlohmann::json ToPlanJson(const Residual& residual);

}  // namespace warden::cel
