// Evaluation of operators, literals, logic and errors.
#include <doctest/doctest.h>

#include "tests/unit/cel/test_util.h"

namespace warden::cel {
namespace {

using testing::Eval;

TEST_CASE("literals and arithmetic") {
  CHECK(Eval("1 + 2 * 3").int_value() == 7);
  CHECK(Eval("(1 + 2) * 3").int_value() == 9);
  CHECK(Eval("7 / 2").int_value() == 3);
  CHECK(Eval("-7 % 3").int_value() == -1);
  CHECK(Eval("2u + 3u").uint_value() == 5u);
  CHECK(Eval("1.5 * 2.0").double_value() == 3.0);
  CHECK(Eval("'ab' + \"cd\"").string_value() == "abcd");
  CHECK(Eval("b'\\x00\\xff'").string_value() == std::string("\0\xff", 2));
  CHECK(Eval("-9223372036854775808").int_value() == INT64_MIN);
  CHECK(Eval("0x1F").int_value() == 31);
  CHECK(Eval("r'\\n'").string_value() == "\\n");
  CHECK(Eval("'''a\nb'''").string_value() == "a\nb");
}

TEST_CASE("arithmetic errors are values") {
  CHECK(Eval("1 / 0").is_error());
  CHECK(Eval("1 % 0").is_error());
  CHECK(Eval("9223372036854775807 + 1").is_error());
  CHECK(Eval("-9223372036854775808 - 1").is_error());
  CHECK(Eval("0u - 1u").is_error());
  CHECK(Eval("-9223372036854775808 / -1").is_error());
  CHECK(Eval("1 + 1.0").is_error());
  CHECK(Eval("'a' + 1").is_error());
  CHECK(std::string(Eval("1 / 0").error_message()).find("division by zero") != std::string::npos);
}

TEST_CASE("equality and ordering") {
  CHECK(Eval("1 == 1.0").bool_value());
  CHECK(Eval("1u == 1").bool_value());
  CHECK_FALSE(Eval("1 == '1'").bool_value());
  CHECK(Eval("[1, 2] == [1, 2]").bool_value());
  CHECK(Eval("{'a': 1} == {'a': 1.0}").bool_value());
  CHECK(Eval("1 < 1.5").bool_value());
  CHECK(Eval("'a' < 'b'").bool_value());
  CHECK(Eval("1 < 'a'").is_error());
  CHECK_FALSE(Eval("0.0/0.0 == 0.0/0.0").bool_value());
}

TEST_CASE("logic absorbs errors commutatively") {
  CHECK(Eval("1/0 == 1 || true").bool_value());
  CHECK(Eval("true || 1/0 == 1").bool_value());
  CHECK_FALSE(Eval("1/0 == 1 && false").bool_value());
  CHECK_FALSE(Eval("false && 1/0 == 1").bool_value());
  CHECK(Eval("1/0 == 1 && true").is_error());
  CHECK(Eval("false || 1/0 == 1").is_error());
  CHECK(Eval("true ? 1 : 1/0").int_value() == 1);
  CHECK(Eval("1 ? 1 : 2").is_error());
  CHECK(Eval("!true") .bool_value() == false);
  CHECK(Eval("!1").is_error());
}

TEST_CASE("lists, maps, in, index and select") {
  CHECK(Eval("2 in [1, 2, 3]").bool_value());
  CHECK_FALSE(Eval("4 in [1, 2, 3]").bool_value());
  CHECK(Eval("'a' in {'a': 1}").bool_value());
  CHECK(Eval("[1, 2, 3][1]").int_value() == 2);
  CHECK(Eval("[1, 2, 3][3]").is_error());
  CHECK(Eval("{'a': 1}['b']").is_error());
  CHECK(Eval("{'a': {'b': 2}}.a.b").int_value() == 2);
  CHECK(Eval("has({'a': 1}.a)").bool_value());
  CHECK_FALSE(Eval("has({'a': 1}.b)").bool_value());
  CHECK(Eval("{'a': 1, 'a': 2}").is_error());
  CHECK(Eval("size([1, 2]) + size('héllo') + size({'a': 1})").int_value() == 8);
}

TEST_CASE("variables") {
  Activation act;
  act.Bind("x", Value::Int(41));
  CHECK(Eval("x + 1", act).int_value() == 42);
  Activation unbound;
  auto program = testing::MustCompile("x + 1", {"x"});
  Value v = Evaluate(*program, unbound);
  REQUIRE(v.is_error());
  CHECK(std::string(v.error_message()).find("'x'") != std::string::npos);
}

}  // namespace
}  // namespace warden::cel
