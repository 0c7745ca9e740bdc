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

namespace warden::cel {
namespace {

using testing::Eval;

bool IsErrorWith(const Value& v, const std::string& text) {
  return v.is_error() && std::string(v.error_message()).find(text) != std::string::npos;
}

TEST_CASE("operator overloads and their error paths") {
  CHECK(Eval("[1] + [2, 3] == [1, 2, 3]").bool_value());
  CHECK(Eval("b'a' + b'b' == b'ab'").bool_value());
  CHECK(IsErrorWith(Eval("[1] + 'a'"), "no matching overload for '_+_' applied to (list, string)"));
  CHECK(IsErrorWith(Eval("-(1u)"), "no matching overload"));
  CHECK(IsErrorWith(Eval("-(-9223372036854775807 - 1)"), "overflow"));
  CHECK(IsErrorWith(Eval("18446744073709551615u + 1u"), "overflow"));
  CHECK(IsErrorWith(Eval("4611686018427387904 * 2"), "overflow"));
  CHECK(IsErrorWith(Eval("5u % 0u"), "modulus by zero"));
  CHECK(IsErrorWith(Eval("1.5 % 1.0"), "no matching overload"));
  CHECK(Eval("1.0 / 0.0 > 1e308").bool_value());  // IEEE: doubles do not error
  CHECK(IsErrorWith(Eval("'a' < 1"), "no matching overload for '_<_'"));
  CHECK(IsErrorWith(Eval("true && 1"), "no matching overload"));
  CHECK(IsErrorWith(Eval("[1, 2][-1]"), "index out of range"));
  CHECK(Eval("[1, 2][1u] == 2 && [1, 2][1.0] == 2").bool_value());
  CHECK(IsErrorWith(Eval("[1, 2][1.5]"), "unsupported index"));
  CHECK(IsErrorWith(Eval("[1, 2]['a']"), "no matching overload"));
  CHECK(IsErrorWith(Eval("{'a': 1}.b"), "no such key: 'b'"));
  CHECK(IsErrorWith(Eval("1.a"), "does not support field selection"));
  CHECK(IsErrorWith(Eval("1 in 2"), "no matching overload for '@in'"));
  CHECK_FALSE(Eval("[1] in {'a': 1}").bool_value());
  CHECK(Eval("timestamp('2020-01-01T00:00:00Z') < timestamp('2021-01-01T00:00:00Z')").bool_value());
  CHECK(Eval("duration('1s') < duration('2s') && duration('60s') == duration('1m')").bool_value());
  CHECK(IsErrorWith(Eval("timestamp('2020-01-01T00:00:00Z') + timestamp('2020-01-01T00:00:00Z')"), "no matching overload"));
  CHECK(Eval("b'a' < b'b' && false < true").bool_value());
  CHECK(Eval("null == null && null != 0").bool_value());
}

TEST_CASE("errors propagate through calls, lists and maps") {
  CHECK(IsErrorWith(Eval("size([1/0])"), "division by zero"));
  CHECK(IsErrorWith(Eval("{'a': 1/0}"), "division by zero"));
  CHECK(IsErrorWith(Eval("'abc'.startsWith(1/0 == 0 ? 'a' : 'b')"), "division by zero"));
  CHECK(IsErrorWith(Eval("(1/0 == 0) == true"), "division by zero"));
}

}  // namespace
}  // namespace warden::cel
