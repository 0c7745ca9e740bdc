// Compiling CEL source into an immutable Program.
//
// Compile runs once, at policy load: lexer, parser (macros expanded), then a planner that
// resolves every identifier to a variable slot, every function call to its implementation, and
// folds constant sub-expressions. The resulting Program is immutable and thread-safe; evaluating
// it (evaluate.h) never parses and never looks a function or a variable up in a table: variables
// are read once per evaluation into slots (a short comparison of names with the activation's).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/status.h"

namespace warden::cel {

struct CompileOptions {
  // The variables an expression may read. A name may be dotted ("request.resource"): then the
  // source text `request.resource.attr.x` resolves to that variable followed by `.attr.x`, the
  // longest declared prefix winning. Referring to an undeclared identifier is a compile error
  // naming it with line:column.
  std::vector<std::string> variables;
  // CEL container (namespace) used to resolve identifiers, e.g. "com.example": `x` then resolves
  // to the first declared of "com.example.x", "com.x", "x". Empty: no container.
  std::string container;
  // Limits, checked at compile time; exceeding one is a ResourceExhausted error.
  size_t max_source_length = 100'000;
  // Nesting of parentheses, calls, operators, lists and maps. Parsing and evaluation recurse at
  // most this deep; values above 400 are taken as 400 so no setting can exhaust a thread's stack.
  int max_ast_depth = 200;
  // When true, an undeclared identifier or unknown function is not a compile error but evaluates
  // to an error value (which `||`/`&&` may absorb). For tools and the conformance suite's
  // unchecked cases; policies keep the default so typos fail at load time.
  bool undeclared_as_runtime_error = false;
  // Whether `int`, `bool`, ... may be used as type values and `type(x)` is allowed (CEL does).
  bool enable_type_values = true;
};

// The compiled form of one expression. Opaque: obtained from Compile, run with Evaluate or
// PartialEvaluate. Shared by any number of threads.
class Program {
 public:
  struct Impl;  // defined in common/cel/internal/compiled.h
  explicit Program(std::unique_ptr<Impl> impl);
  ~Program();
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  // The source text it was compiled from.
  const std::string& source() const;
  // The declared variables the expression actually reads, in first-use order.
  const std::vector<std::string>& referenced_variables() const;
  // True when the whole expression folded to a constant at compile time.
  bool is_constant() const;

  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

// Compiles `source`. Errors are InvalidArgument (syntax, undeclared identifier, unknown function,
// wrong argument count, a regular expression or constant that does not compile) or
// ResourceExhausted (a limit), each message beginning "line:column: ".
Result<std::shared_ptr<const Program>> Compile(std::string_view source, const CompileOptions& options);

}  // namespace warden::cel
