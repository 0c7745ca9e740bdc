// Cases found by the differential test (tests/differential/, unit_differential), kept here so that
// each stays pinned even if the generator stops drawing it.
#include <cmath>
#include <limits>

#include <doctest/doctest.h>

#include "tests/unit/cel/test_util.h"

namespace warden::cel {
namespace {

using testing::Eval;

// Found as `(v3 < ((false ? v0 : v0) + (20u - v0)))` with v3 = NaN: Warden answered false,
// cel-go (so Cerbos) answers the error "NaN values cannot be ordered". With false, a negated
// comparison such as `!(R.attr.a / R.attr.b < 1.0)` held where Cerbos's condition does not.
TEST_CASE("ordering with a NaN operand is an error, as in cel-go") {
  Activation act;
  act.Bind("x", Value::Double(std::numeric_limits<double>::quiet_NaN()));
  act.Bind("y", Value::Int(1));
  for (const char* source : {"x < 1.0", "x <= y", "x > 1u", "1.0 >= x", "y < x", "0.0/0.0 < 1.0", "!(x < 1.0)"}) {
    INFO(source);
    Value v = Eval(source, act);
    REQUIRE(v.is_error());
    CHECK(std::string(v.error_message()).find("NaN") != std::string::npos);
  }
  // Equality stays a value (NaN is unequal to everything), and || / && still absorb the error.
  CHECK_FALSE(Eval("x == x", act).bool_value());
  CHECK(Eval("x != 1.0", act).bool_value());
  CHECK(Eval("x < 1.0 || true", act).bool_value());
  CHECK_FALSE(Eval("false && x < 1.0", act).bool_value());
  CHECK(Eval("[1.0, 2.0].exists(e, x < e)", act).is_error());
}

// Found as `{"c": {}}.c.map(x0, {})`: the reference had refused map() over a map; CEL defines it
// (over the keys), and Warden was right. Kept as a case for both macros.
TEST_CASE("map() and filter() range over a map's keys") {
  CHECK(Eval("{}.map(k, k) == []").bool_value());
  CHECK(Eval("{'a': 1}.map(k, k + k) == ['aa']").bool_value());
  CHECK(Eval("{'a': 1, 'b': 2}.filter(k, k == 'b') == ['b']").bool_value());
}

// Not a fix, a choice the differential test made visible (its reference has the switch
// kExactNumberLine): the language definition puts int, uint and double on one continuous number
// line, but cel-go, and so Cerbos, compares an integer with a double by converting the integer to
// the nearest double. Warden answers as Cerbos does.
TEST_CASE("an int meets a double as the nearest double, as in cel-go") {
  CHECK(Eval("9007199254740993 == 9007199254740992.0").bool_value());
  CHECK(Eval("9223372036854775807 == 9223372036854775808.0").bool_value());
  CHECK_FALSE(Eval("9223372036854775807 < 9223372036854775808.0").bool_value());
  CHECK(Eval("18446744073709551615u == 18446744073709551616.0").bool_value());
  CHECK(Eval("9223372036854775807 in [9223372036854775808.0]").bool_value());
  // int against uint stays exact.
  CHECK_FALSE(Eval("9223372036854775807 == 9223372036854775808u").bool_value());
}

}  // namespace
}  // namespace warden::cel
