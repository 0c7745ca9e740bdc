// Compile errors: every one names line and column and the reason; limits are enforced.
#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/unit/cel/test_util.h"

namespace warden::cel {
namespace {

using testing::CompileError;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("syntax errors carry line and column") {
  std::string err = CompileError("1 +");
  CHECK(Contains(err, "1:4"));
  CHECK(Contains(err, "unexpected end"));

  err = CompileError("a &&\n  (b ||", {"a", "b"});
  CHECK(Contains(err, "2:8"));

  err = CompileError("'unterminated");
  CHECK(Contains(err, "1:1"));
  CHECK(Contains(err, "unterminated string"));

  err = CompileError("1 # 2");
  CHECK(Contains(err, "1:3"));
  CHECK(Contains(err, "unexpected character '#'"));

  err = CompileError("[1, 2");
  CHECK(Contains(err, "expected"));

  err = CompileError("{'a' 1}");
  CHECK(Contains(err, "':' in map literal"));

  err = CompileError("'\\q'");
  CHECK(Contains(err, "invalid escape"));

  err = CompileError("18446744073709551616u");
  CHECK(Contains(err, "out of range"));

  err = CompileError("9223372036854775808");
  CHECK(Contains(err, "int literal out of range"));

  err = CompileError("x.1");
  CHECK(Contains(err, "1:2"));
}

TEST_CASE("columns count code points, not bytes") {
  std::string err = CompileError("'héllo' + )");
  CHECK(Contains(err, "1:11"));
}

TEST_CASE("undeclared identifiers and functions are compile errors") {
  std::string err = CompileError("R.attr.x == P.id", {"R"});
  CHECK(Contains(err, "1:13"));
  CHECK(Contains(err, "undeclared reference to 'P'"));

  err = CompileError("nosuch(1)");
  CHECK(Contains(err, "undeclared reference to function 'nosuch'"));

  err = CompileError("'a'.startsWith()");
  CHECK(Contains(err, "no matching overload for 'startsWith'"));

  err = CompileError("if", {});
  CHECK(Contains(err, "reserved identifier 'if'"));

  err = CompileError("has(x)", {"x"});
  CHECK(Contains(err, "has() requires a single field selection"));

  err = CompileError("[1].all(1, true)");
  CHECK(Contains(err, "variable must be a simple name"));
}

TEST_CASE("a constant regular expression is compiled once, at compile time") {
  std::string err = CompileError("'a'.matches('(')");
  CHECK(Contains(err, "1:5"));
  CHECK(Contains(err, "invalid regular expression"));
  CHECK(CompileError("s.matches('^a+$')", {"s"}).empty());
}

TEST_CASE("dotted variable names resolve by longest prefix") {
  Activation act;
  act.Bind("request.resource", FromJson(nlohmann::json{{"attr", {{"owner", "alice"}}}}));
  auto program = testing::MustCompile("request.resource.attr.owner == 'alice'", {"request.resource"});
  CHECK(Evaluate(*program, act).bool_value());
  CHECK(program->referenced_variables() == std::vector<std::string>{"request.resource"});
}

TEST_CASE("limits: depth and source length") {
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "(";
  deep += "1";
  for (int i = 0; i < 300; ++i) deep += ")";
  std::string err = CompileError(deep);
  CHECK(Contains(err, "nested deeper than"));

  // A long flat chain is as deep as it is long: it must not overflow the evaluator's stack.
  std::string chain = "1";
  for (int i = 0; i < 5000; ++i) chain += " + 1";
  err = CompileError(chain);
  CHECK(Contains(err, "nested deeper than"));

  CompileOptions options;
  options.max_source_length = 10;
  auto r = Compile("1 + 2 + 3 + 4", options);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kResourceExhausted);
  CHECK(Contains(r.status().message(), "longer than the limit"));

  // No setting lifts the hard cap that keeps recursion off the end of the stack.
  options = CompileOptions();
  options.max_ast_depth = 1'000'000;
  std::string very_deep(5000, '[');
  very_deep += std::string(5000, ']');
  auto capped = Compile(very_deep, options);
  REQUIRE_FALSE(capped.ok());
  CHECK(capped.status().code() == StatusCode::kResourceExhausted);

  // The deepest expression the cap admits compiles, evaluates and plans without trouble.
  options = CompileOptions();
  options.max_ast_depth = 1'000'000;
  options.variables = {"x"};
  std::string deepest = std::string(190, '[') + "x" + std::string(190, ']');
  auto admitted = Compile(deepest, options);
  REQUIRE_MESSAGE(admitted.ok(), admitted.status().ToString());
  Activation act;
  act.Bind("x", Value::Int(1));
  CHECK(Evaluate(**admitted, act).kind() == Kind::kList);
  act.MarkUnknown("x");
  CHECK_FALSE(PartialEvaluate(**admitted, act).is_known());
  std::string sum = "x";
  for (int i = 0; i < 190; ++i) sum += " + x";
  auto long_sum = Compile(sum, options);
  REQUIRE(long_sum.ok());
  act = Activation();
  act.Bind("x", Value::Int(1));
  CHECK(Evaluate(**long_sum, act).int_value() == 191);

  options = CompileOptions();
  options.max_ast_depth = 5;
  CHECK_FALSE(Compile("[[[[[1]]]]]", options).ok());
  CHECK(Compile("[[[[1]]]]", options).ok());
  // A parenthesis is one level, not two: the whole expression and four parentheses make five.
  CHECK(Compile("((((1))))", options).ok());
  CHECK_FALSE(Compile("(((((1)))))", options).ok());
}

TEST_CASE("constants are folded at compile time") {
  auto program = testing::MustCompile("[1, 2, 3].map(x, x * 2).filter(x, x > 2) == [4, 6] && 'ab'.size() == 2");
  CHECK(program->is_constant());
  CHECK(Evaluate(*program, Activation()).bool_value());
  auto with_var = testing::MustCompile("x + (1 + 2)", {"x"});
  CHECK_FALSE(with_var->is_constant());
}

TEST_CASE("undeclared names may be deferred to evaluation when asked") {
  CompileOptions options;
  options.undeclared_as_runtime_error = true;
  auto program = Compile("x || true", options);
  REQUIRE(program.ok());
  CHECK(Evaluate(**program, Activation()).bool_value());
  program = Compile("x", options);
  REQUIRE(program.ok());
  CHECK(Evaluate(**program, Activation()).is_error());
}

}  // namespace
}  // namespace warden::cel
