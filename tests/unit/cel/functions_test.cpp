// Builtin functions: strings, conversions, timestamps with time zones, macros, and limits.
#include <doctest/doctest.h>

#include <string>

#include "tests/unit/cel/test_util.h"

namespace warden::cel {
namespace {

using testing::Eval;

std::string Str(const Value& v) {
  REQUIRE_MESSAGE(v.kind() == Kind::kString, v.DebugString());
  return std::string(v.string_value());
}

TEST_CASE("string functions") {
  CHECK(Eval("'hello'.contains('ell')").bool_value());
  CHECK(Eval("'hello'.startsWith('he') && 'hello'.endsWith('lo')").bool_value());
  CHECK(Eval("'abc123'.matches('^[a-z]+[0-9]+$')").bool_value());
  CHECK_FALSE(Eval("'abc'.matches('^[0-9]+$')").bool_value());
  CHECK(Str(Eval("'TacoCat'.lowerAscii()")) == "tacocat");
  CHECK(Str(Eval("'TacoCat'.upperAscii()")) == "TACOCAT");
  CHECK(Str(Eval("'  x y  '.trim()")) == "x y");
  CHECK(Eval("'a,b,c'.split(',') == ['a', 'b', 'c']").bool_value());
  CHECK(Str(Eval("['a', 'b'].join('-')")) == "a-b");
  CHECK(Str(Eval("'aXbX'.replace('X', '_')")) == "a_b_");
  CHECK(Str(Eval("'héllo'.charAt(1)")) == "é");
  CHECK(Eval("'héllo'.indexOf('l')").int_value() == 2);
  CHECK(Eval("'héllo'.lastIndexOf('l')").int_value() == 3);
  CHECK(Str(Eval("'héllo'.substring(1, 3)")) == "él");
  CHECK(Eval("'abc'.substring(2, 1)").is_error());
  CHECK(Eval("'abc'.charAt(4)").is_error());
  CHECK(Str(Eval("'%s is %d years, %.2f'.format(['Al', 42, 1.5])")) == "Al is 42 years, 1.50");
  CHECK(Eval("'%d'.format(['x'])").is_error());
  CHECK(Eval("['a', 1].join()").is_error());
  Activation act;
  act.Bind("s", Value::String("x"));
  act.Bind("y", Value::String("("));
  CHECK(Eval("s.matches(y)", act).is_error());  // a bad pattern known only at run time
}

TEST_CASE("conversions") {
  CHECK(Eval("int('42')").int_value() == 42);
  CHECK(Eval("int('4x')").is_error());
  CHECK(Eval("int(1e19)").is_error());
  CHECK(Eval("int(-1.9)").int_value() == -1);
  CHECK(Eval("uint(-1)").is_error());
  CHECK(Eval("double('1.5')").double_value() == 1.5);
  CHECK(Str(Eval("string(1.5)")) == "1.5");
  CHECK(Str(Eval("string(b'abc')")) == "abc");
  CHECK(Eval("string(b'\\xff')").is_error());
  CHECK(Eval("bool('true') && !bool('false')").bool_value());
  CHECK(Eval("bool('yes')").is_error());
  CHECK(Eval("type(1) == int && type('a') == string && type([]) == list").bool_value());
  CHECK(Eval("dyn(1) == 1").bool_value());
}

TEST_CASE("timestamps, durations and time zones") {
  CHECK(Eval("timestamp('2009-02-13T23:31:30Z').getFullYear()").int_value() == 2009);
  CHECK(Eval("timestamp('2009-02-13T23:31:30Z').getHours('Australia/Sydney')").int_value() == 10);
  CHECK(Eval("timestamp('2009-02-13T23:31:30Z').getHours('+02:00')").int_value() == 1);
  CHECK(Eval("timestamp('2023-07-01T12:00:00Z').getHours('Europe/London')").int_value() == 13);  // BST
  CHECK(Eval("timestamp('2023-01-01T12:00:00Z').getHours('Europe/London')").int_value() == 12);
  CHECK(Eval("timestamp('2009-02-13T23:31:30Z').getHours('Mars/Olympus')").is_error());
  CHECK(Eval("timestamp('2009-02-13T23:31:30Z').getDayOfWeek()").int_value() == 5);
  CHECK(Eval("timestamp('2009-02-13T23:31:30Z') + duration('1h') == timestamp('2009-02-14T00:31:30Z')").bool_value());
  CHECK(Eval("timestamp('2020-01-02T00:00:00Z') - timestamp('2020-01-01T00:00:00Z') == duration('24h')").bool_value());
  CHECK(Eval("duration('1h30m').getMinutes()").int_value() == 90);
  CHECK(Eval("timestamp('not a time')").is_error());
  CHECK(Eval("timestamp('9999-12-31T23:59:59Z') + duration('1s')").is_error());
  CHECK(Str(Eval("string(duration('1.5s'))")) == "1.500s");

  Activation act;
  act.set_now(Timestamp{1'700'000'000, 0});
  CHECK(Eval("now() == timestamp(1700000000)", act).bool_value());
  CHECK(Eval("timestamp(1699999000).timeSince() == duration('1000s')", act).bool_value());
}

TEST_CASE("macros") {
  CHECK(Eval("[1, 2, 3].all(x, x > 0)").bool_value());
  CHECK(Eval("[1, 2, 3].exists(x, x == 2)").bool_value());
  CHECK(Eval("[1, 2, 3].exists_one(x, x > 2)").bool_value());
  CHECK(Eval("[1, 2, 3].map(x, x * 10) == [10, 20, 30]").bool_value());
  CHECK(Eval("[1, 2, 3].map(x, x > 1, x * 10) == [20, 30]").bool_value());
  CHECK(Eval("[1, 2, 3].filter(x, x != 2) == [1, 3]").bool_value());
  CHECK(Eval("{'a': 1, 'b': 2}.all(k, k.size() == 1)").bool_value());
  // Errors in all/exists are absorbed when another element decides.
  CHECK_FALSE(Eval("[0, 1].all(x, 1 / x > 0)").bool_value());
  CHECK(Eval("[1, 0].exists(x, 1 / x == 1)").bool_value());
  CHECK(Eval("[0].exists(x, 1 / x == 1)").is_error());
  CHECK(Eval("[1, 2].map(x, x / 0)").is_error());
  CHECK(Eval("cel.bind(x, 2, x * x) == 4").bool_value());
  CHECK(Eval("[1].map(x, [2].map(x, x * 10)) == [[20]]").bool_value());  // inner x shadows
}

TEST_CASE("the cost limit stops hostile expressions") {
  Activation act;
  act.set_max_cost(100'000);
  // 20^6 = 64 million iterations if it ran to the end.
  std::string nest = "[" + std::string("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20") + "]";
  std::string expr = nest + ".all(a, " + nest + ".all(b, " + nest + ".all(c, " + nest + ".all(d, " + nest +
                     ".all(e, " + nest + ".all(f, a + b + c + d + e + f > 0))))))";
  Value v = Eval(expr, act);
  REQUIRE(v.is_error());
  CHECK(std::string(v.error_message()) == "cost limit exceeded");

  // Exponential string growth through nested binds is charged by size before it is built.
  std::string grow = "'aaaaaaaaaaaaaaaa'";
  std::string bind_expr = "cel.bind(s0, " + grow + ", ";
  std::string close = "";
  for (int i = 1; i <= 40; ++i) {
    bind_expr += "cel.bind(s" + std::to_string(i) + ", s" + std::to_string(i - 1) + " + s" + std::to_string(i - 1) + ", ";
    close += ")";
  }
  bind_expr += "size(s40))" + close;
  v = Eval(bind_expr, act);
  REQUIRE(v.is_error());
  CHECK(std::string(v.error_message()) == "cost limit exceeded");

  // The limit is per evaluation and deterministic: a cheap expression passes.
  CHECK(Eval("[1, 2, 3].map(x, [1, 2, 3].map(y, x * y)).size() == 3", act).bool_value());
}

TEST_CASE("cost exhaustion is not absorbed by || or &&") {
  Activation act;
  act.set_max_cost(1000);
  // A bound list keeps the planner from folding the expression at compile time.
  act.Bind("l", Eval("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"));
  Value v = Eval("true || l.all(a, l.all(b, l.all(c, true)))", act);
  CHECK(v.bool_value());  // short-circuits before the cost is spent
  v = Eval("l.all(a, l.all(b, l.all(c, true))) || true", act);
  REQUIRE(v.is_error());
  CHECK(std::string(v.error_message()) == "cost limit exceeded");
}

}  // namespace
}  // namespace warden::cel

namespace warden::cel {
namespace {

TEST_CASE("string(double) renders as cel-go does (Go's %g)") {
  CHECK(std::string(testing::Eval("string(123.456)").string_value()) == "123.456");
  CHECK(std::string(testing::Eval("string(1000000.0)").string_value()) == "1e+06");
  CHECK(std::string(testing::Eval("string(123456.0)").string_value()) == "123456");
  CHECK(std::string(testing::Eval("string(0.0001)").string_value()) == "0.0001");
  CHECK(std::string(testing::Eval("string(0.00001)").string_value()) == "1e-05");
  CHECK(std::string(testing::Eval("string(-2.5e-10)").string_value()) == "-2.5e-10");
}

}  // namespace
}  // namespace warden::cel

namespace warden::cel {
namespace {

TEST_CASE("time zones past the last explicit transition follow the zone's POSIX rule") {
  using testing::Eval;
  CHECK(Eval("timestamp('2100-07-01T12:00:00Z').getHours('Europe/London')").int_value() == 13);
  CHECK(Eval("timestamp('2100-12-01T12:00:00Z').getHours('Europe/London')").int_value() == 12);
  CHECK(Eval("timestamp('2100-01-15T00:00:00Z').getHours('Australia/Sydney')").int_value() == 11);
  CHECK(Eval("timestamp('2100-07-15T00:00:00Z').getHours('Australia/Sydney')").int_value() == 10);
  CHECK(Eval("timestamp('2100-07-04T12:00:00Z').getHours('America/New_York')").int_value() == 8);
  CHECK(Eval("timestamp('2100-01-04T12:00:00Z').getHours('America/New_York')").int_value() == 7);
  CHECK(Eval("timestamp('2100-01-04T12:00:00Z').getMinutes('Asia/Kathmandu')").int_value() == 45);
  // The switch itself: in 2100 the EU changes on the last Sunday of March (the 28th) at 01:00 UTC.
  CHECK(Eval("timestamp('2100-03-28T00:59:59Z').getHours('Europe/London')").int_value() == 0);
  CHECK(Eval("timestamp('2100-03-28T01:00:00Z').getHours('Europe/London')").int_value() == 2);
}

// Found by fuzz_cel: "America" names a folder of zones, and reading it threw out of the evaluator.
TEST_CASE("a time zone naming a folder, or outside the zone database, is an error value") {
  using testing::Eval;
  for (const char* zone : {"America", "Europe/", "../../etc/passwd", "/etc/passwd", "Nowhere/Atlantis"}) {
    INFO(zone);
    CHECK(Eval(std::string("timestamp('2009-02-13T02:00:00Z').getDayOfMonth('") + zone + "')").is_error());
  }
}

}  // namespace
}  // namespace warden::cel
