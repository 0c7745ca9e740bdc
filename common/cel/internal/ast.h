// The expression tree: produced by the parser, then resolved in place by the planner into the
// compiled form the evaluator walks. Internal to common/cel.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/cel/value.h"

namespace warden::cel::internal {

enum class Op : uint8_t {
  kConst,
  kIdent,   // parser: a bare name; planner turns it into kVar, kLocal or a constant type
  kVar,     // a declared variable, by slot
  kLocal,   // a comprehension/bind variable, by slot
  kSelect,  // args[0].name
  kHas,     // has(args[0].name)
  kCall,    // function `name`; receiver style puts the target in args[0]
  kList,
  kMap,     // args alternate key, value
  kComprehension,
  kAnd,
  kOr,
  kNot,
  kNeg,
  kTernary,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kIndex,
  kOptionalEntry,  // `?x` inside a list or map literal: args[0] is an optional to unwrap
};

enum class Macro : uint8_t {
  kNone,
  kAll,
  kExists,
  kExistsOne,
  kMap,     // args: range, predicate (may be null), transform
  kFilter,  // args: range, predicate
  kTransformList,
  kTransformMap,
  kBind,    // args: init, body; var1 = name
  kOptMap,      // opt.optMap(x, expr): args: optional, expr
  kOptFlatMap,  // opt.optFlatMap(x, expr)
};

struct Builtin;
struct EvalContext;

struct Expr {
  Op op = Op::kConst;
  Macro macro = Macro::kNone;
  bool receiver = false;         // kCall: method-call syntax
  bool optional = false;         // kSelect `.?field`, kIndex `[?index]`
  uint32_t offset = 0;           // byte offset in the source, for error positions
  int depth = 1;                 // height of this subtree
  uint32_t slot = 0;             // kVar / kLocal; kComprehension: slot of var1 (var2 = slot + 1)
  Value value;                   // kConst
  std::string name;              // ident, field, function or variable name
  std::string var1, var2;        // comprehension variables (var2 empty for one-variable forms)
  std::vector<std::unique_ptr<Expr>> args;
  const Builtin* fn = nullptr;   // kCall, resolved
  std::shared_ptr<const void> aux;  // per-call precomputed data (e.g. a compiled regex)
};

}  // namespace warden::cel::internal
