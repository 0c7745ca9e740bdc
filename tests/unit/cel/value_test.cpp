// The value model: JSON conversion, equality, ordering, map keys.
#include <doctest/doctest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "common/cel/value.h"

namespace warden::cel {
namespace {

using nlohmann::json;

TEST_CASE("FromJson follows google.protobuf.Value: every number is a double") {
  Value v = FromJson(json::parse(R"({"a": 1, "b": [true, null, "s"], "c": {"d": 2.5}})"));
  REQUIRE(v.kind() == Kind::kMap);
  const Value* a = v.map_value().FindString("a");
  REQUIRE(a != nullptr);
  CHECK(a->kind() == Kind::kDouble);
  CHECK(a->double_value() == 1.0);
  const Value* b = v.map_value().FindString("b");
  REQUIRE(b != nullptr);
  CHECK(b->list_value().size() == 3);
  CHECK(b->list_value()[1].is_null());
  CHECK(v.map_value().FindString("missing") == nullptr);

  json deep = json::array();
  json* cur = &deep;
  for (int i = 0; i < 600; ++i) {
    cur->push_back(json::array());
    cur = &(*cur)[0];
  }
  CHECK(FromJson(deep).is_error());
}

TEST_CASE("ToJson renders every kind") {
  CHECK(ToJson(Value::Int(-3)) == json(-3));
  CHECK(ToJson(Value::Uint(3)) == json(3u));
  CHECK(ToJson(Value::Double(std::nan(""))) == json("NaN"));
  CHECK(ToJson(Value::Bytes("hi")) == json("aGk="));
  CHECK(ToJson(Value::TimestampOf({1234567890, 0})) == json("2009-02-13T23:31:30Z"));
  CHECK(ToJson(Value::DurationOf({90, 500'000'000})) == json("90.500s"));
  CHECK(ToJson(Value::Map({{Value::Int(1), Value::String("x")}})) == json({{"1", "x"}}));
  CHECK(ToJson(Value::Error("boom")) == json({{"error", "boom"}}));
  json round = json::parse(R"({"a": [1.5, "x", null, false]})");
  CHECK(ToJson(FromJson(round)) == round);
}

TEST_CASE("maps reject bad and repeated keys") {
  CHECK(Value::Map({{Value::Double(1.0), Value::Int(1)}}).is_error());
  CHECK(Value::Map({{Value::Null(), Value::Int(1)}}).is_error());
  CHECK(Value::Map({{Value::Int(1), Value::Int(1)}, {Value::Uint(1), Value::Int(2)}}).is_error());
  Value m = Value::Map({{Value::Int(1), Value::String("one")}, {Value::Bool(true), Value::String("t")}});
  REQUIRE(m.kind() == Kind::kMap);
  CHECK(m.map_value().Find(Value::Uint(1)) != nullptr);
  CHECK(m.map_value().Find(Value::Double(1.0)) != nullptr);
  CHECK(m.map_value().Find(Value::Double(1.5)) == nullptr);
}

// "k" + std::to_string(i), spelled so that GCC 12 does not warn falsely (-Wrestrict, bug 105329).
std::string Key(int i) {
  std::string key = "k";
  key += std::to_string(i);
  return key;
}

TEST_CASE("large maps index their string keys") {
  std::vector<std::pair<Value, Value>> entries;
  for (int i = 0; i < 1000; ++i) entries.emplace_back(Value::String(Key(i)), Value::Int(i));
  Value m = Value::Map(std::move(entries));
  REQUIRE(m.kind() == Kind::kMap);
  for (int i = 0; i < 1000; i += 37) {
    const Value* v = m.map_value().FindString(Key(i));
    REQUIRE(v != nullptr);
    CHECK(v->int_value() == i);
  }
  CHECK(m.map_value().FindString("k1000") == nullptr);
  std::vector<std::pair<Value, Value>> dup;
  for (int i = 0; i < 100; ++i) dup.emplace_back(Value::String(Key(i % 99)), Value::Int(i));
  CHECK(Value::Map(std::move(dup)).is_error());
}

TEST_CASE("equality and ordering") {
  CHECK(ValuesEqual(Value::Int(1), Value::Double(1.0)));
  CHECK(ValuesEqual(Value::Int(1), Value::Uint(1)));
  CHECK_FALSE(ValuesEqual(Value::Int(-1), Value::Uint(18446744073709551615ull)));
  CHECK_FALSE(ValuesEqual(Value::Double(std::nan("")), Value::Double(std::nan(""))));
  CHECK_FALSE(ValuesEqual(Value::String("1"), Value::Int(1)));
  CHECK(Equals(Value::Error("e"), Value::Int(1)).is_error());
  CHECK(Compare(Value::Int(-1), Value::Uint(0)) == -1);
  CHECK(Compare(Value::String("a"), Value::String("b")) == -1);
  CHECK_FALSE(Compare(Value::String("a"), Value::Int(1)).has_value());
  CHECK_FALSE(Compare(Value::Double(std::nan("")), Value::Int(1)).has_value());
  CHECK(Value::TimestampOf({-62135596801, 0}).is_error());  // before year 1
  CHECK(Value::Int(3).TypeOf().type_name() == "int");
}

}  // namespace
}  // namespace warden::cel
