// Partial evaluation and Cerbos plan JSON.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/unit/cel/test_util.h"

namespace warden::cel {
namespace {

using nlohmann::json;

// Plans for a principal (P known) over resources (R unknown, rendered as request.resource).
Residual Plan(std::string_view source, const json& principal = json::object()) {
  auto program = testing::MustCompile(source, {"R", "P", "request"});
  Activation act;
  Value p = FromJson(principal);
  act.Bind("P", p);
  act.Bind("request", Value::Map({{Value::String("principal"), p}}));
  act.MarkUnknown("R", "request.resource");
  act.MarkUnknown("request.resource");
  return PartialEvaluate(*program, act);
}

json Var(const std::string& path) { return {{"variable", path}}; }
json Val(json v) { return {{"value", std::move(v)}}; }
// Operands as a vector: a one-element braced list converted straight to json is that element
// under clang but a one-element array under gcc.
json Op(const std::string& op, std::vector<json> operands) {
  return {{"expression", {{"operator", op}, {"operands", json(std::move(operands))}}}};
}

TEST_CASE("a comparison with the unknown resource stays, the principal folds") {
  Residual r = Plan("R.attr.ownerId == P.id", {{"id", "daffy"}});
  CHECK_FALSE(r.is_known());
  CHECK(ToPlanJson(r) == Op("eq", {Var("request.resource.attr.ownerId"), Val("daffy")}));
  // Same plan when the source spells the canonical path.
  CHECK(ToPlanJson(Plan("request.resource.attr.ownerId == request.principal.id", {{"id", "daffy"}})) ==
        ToPlanJson(r));
}

TEST_CASE("known parts decide: always allowed, always denied") {
  Residual r = Plan("P.attr.enabled == true", {{"attr", {{"enabled", true}}}});
  CHECK(r.IsTrue());
  r = Plan("P.attr.enabled && R.attr.x == 1", {{"attr", {{"enabled", false}}}});
  CHECK(r.IsFalse());
  r = Plan("R.attr.x == 1 || P.attr.admin", {{"attr", {{"admin", true}}}});
  CHECK(r.IsTrue());
  r = Plan("P.attr.admin || R.attr.x == 1", {{"attr", {{"admin", false}}}});
  CHECK(ToPlanJson(r) == Op("eq", {Var("request.resource.attr.x"), Val(1)}));
}

TEST_CASE("plan shapes match Cerbos's") {
  CHECK(ToPlanJson(Plan("R.attr.status in ['APPROVED', 'REJECTED'] && R.attr.region.startsWith('EU')")) ==
        Op("and", {Op("in", {Var("request.resource.attr.status"), Val({"APPROVED", "REJECTED"})}),
                   Op("startsWith", {Var("request.resource.attr.region"), Val("EU")})}));

  CHECK(ToPlanJson(Plan("hierarchy(R.attr.path).descendentOf(hierarchy(P.attr.orgPath))",
                        {{"attr", {{"orgPath", "acme.sales"}}}})) ==
        Op("descendentOf", {Op("hierarchy", {Var("request.resource.attr.path")}), Op("hierarchy", {Val("acme.sales")})}));

  CHECK(ToPlanJson(Plan("R.attr.tags.exists(t, t.startsWith('team-' + P.attr.team))", {{"attr", {{"team", "sre"}}}})) ==
        Op("exists", {Var("request.resource.attr.tags"),
                      Op("lambda", {Op("startsWith", {Var("t"), Val("team-sre")}), Var("t")})}));

  CHECK(ToPlanJson(Plan("size(R.attr.items.filter(i, i.locked == true)) == 0")) ==
        Op("eq", {Op("size", {Op("filter", {Var("request.resource.attr.items"),
                                            Op("lambda", {Op("eq", {Var("i.locked"), Val(true)}), Var("i")})})}),
                  Val(0)}));

  // has() on an unknown attribute is taken as true, as Cerbos's planner does.
  CHECK(ToPlanJson(Plan("has(R.attr.frozen) && R.attr.frozen == true")) ==
        Op("eq", {Var("request.resource.attr.frozen"), Val(true)}));

  CHECK(ToPlanJson(Plan("!('secret' in R.attr.labels)")) ==
        Op("not", {Op("in", {Val("secret"), Var("request.resource.attr.labels")})}));

  CHECK(ToPlanJson(Plan("hasIntersection(R.attr.labels, ['a', 'b'])")) ==
        Op("hasIntersection", {Var("request.resource.attr.labels"), Val({"a", "b"})}));

  CHECK(ToPlanJson(Plan("R.attr.amount + 1 > 2 ? R.attr.a : R.attr.b")) ==
        Op("if", {Op("gt", {Op("add", {Var("request.resource.attr.amount"), Val(1)}), Val(2)}),
                  Var("request.resource.attr.a"), Var("request.resource.attr.b")}));
}

TEST_CASE("errors in known parts are kept as known error values") {
  // Operands are taken left to right, as cel-go does: an error met first decides...
  Residual r = Plan("P.attr.missing == R.attr.x", {{"attr", json::object()}});
  REQUIRE(r.is_known());
  CHECK(r.value().is_error());
  // ...while an unknown met first leaves a residual holding the error operand.
  r = Plan("R.attr.x == P.attr.missing", {{"attr", json::object()}});
  REQUIRE_FALSE(r.is_known());
  REQUIRE(r.operands().size() == 2);
  CHECK(r.operands()[1].is_known());
  CHECK(r.operands()[1].value().is_error());
  // An error absorbed by a known false.
  CHECK(Plan("P.attr.missing == 1 && false", {{"attr", json::object()}}).IsFalse());
}

TEST_CASE("Residual builders simplify known booleans away") {
  Residual x = Residual::Call("eq", {Residual::Variable("request.resource.attr.a"), Residual::Known(Value::Int(1))});
  Residual t = Residual::Known(Value::Bool(true));
  Residual f = Residual::Known(Value::Bool(false));
  CHECK(Residual::And(t, x).DebugString() == x.DebugString());
  CHECK(Residual::And(x, f).IsFalse());
  CHECK(Residual::Or(f, x).DebugString() == x.DebugString());
  CHECK(Residual::Or(x, t).IsTrue());
  CHECK(Residual::Not(t).IsFalse());
  CHECK(Residual::Not(Residual::Not(x)).DebugString() == x.DebugString());
  Residual both = Residual::And(x, Residual::Not(x));
  CHECK(both.op() == "and");
  CHECK(both.DebugString() == "((request.resource.attr.a == 1) && !(request.resource.attr.a == 1))");
  CHECK(ToPlanJson(Residual::Known(Value::Bool(true))) == Val(true));
}

TEST_CASE("Evaluate with unknown attributes yields an unknown value, absorbed by && and ||") {
  auto program = testing::MustCompile("R.attr.x == 1 || P.admin", {"R", "P"});
  Activation act;
  act.Bind("P", FromJson({{"admin", true}}));
  act.MarkUnknown("R", "request.resource");
  CHECK(Evaluate(*program, act).bool_value());
  act.Bind("P", FromJson({{"admin", false}}));
  Value v = Evaluate(*program, act);
  REQUIRE(v.is_unknown());
  CHECK(v.unknown_path() == "request.resource.attr.x");
}

}  // namespace
}  // namespace warden::cel
