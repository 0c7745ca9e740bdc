// Cerbos's extension functions and the directory check() over a RelationOracle.
#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

#include "tests/unit/cel/test_util.h"

namespace warden::cel {
namespace {

using testing::Eval;

TEST_CASE("hierarchy") {
  CHECK(Eval("hierarchy('a.b').ancestorOf(hierarchy('a.b.c.d'))").bool_value());
  CHECK_FALSE(Eval("hierarchy('a.b').ancestorOf(hierarchy('a.b'))").bool_value());
  CHECK(Eval("hierarchy('a.b.c').descendentOf(hierarchy('a'))").bool_value());
  CHECK(Eval("hierarchy('a.b').immediateParentOf(hierarchy('a.b.c'))").bool_value());
  CHECK_FALSE(Eval("hierarchy('a.b').immediateParentOf(hierarchy('a.b.c.d'))").bool_value());
  CHECK(Eval("hierarchy('a.b.c').immediateChildOf(hierarchy('a.b'))").bool_value());
  CHECK(Eval("hierarchy('a.b.c').siblingOf(hierarchy('a.b.d'))").bool_value());
  CHECK_FALSE(Eval("hierarchy('a.b.c').siblingOf(hierarchy('a.x.c'))").bool_value());
  CHECK(Eval("hierarchy('a.b').overlaps(hierarchy('a.b.c'))").bool_value());
  CHECK(Eval("hierarchy('a.b.c').commonAncestors(hierarchy('a.b.d')) == hierarchy('a.b')").bool_value());
  CHECK(Eval("hierarchy('a:b:c', ':') == hierarchy(['a', 'b', 'c'])").bool_value());
  CHECK(Eval("hierarchy('a.b.c').size() == 3 && size(hierarchy('a.b.c')) == 3").bool_value());
  CHECK(Eval("hierarchy('a.b.c')[1] == 'b'").bool_value());
  CHECK(Eval("hierarchy('a.b.c')[3]").is_error());
  CHECK(Eval("hierarchy(1)").is_error());
  CHECK(Eval("string(hierarchy('a.b')) == 'a.b'").bool_value());
}

TEST_CASE("list set functions") {
  CHECK(Eval("intersect([1, 2, 3], [2, 3, 4]) == [2, 3]").bool_value());
  CHECK(Eval("[1, 2, 3].intersect([3]) == [3]").bool_value());
  CHECK(Eval("hasIntersection(['a', 'b'], ['b'])").bool_value());
  CHECK_FALSE(Eval("hasIntersection(['a'], [])").bool_value());
  CHECK(Eval("['a', 'b', 'c'].except(['b']) == ['a', 'c']").bool_value());
  CHECK(Eval("['a'].isSubset(['a', 'b']) && !['c'].isSubset(['a'])").bool_value());
  CHECK(Eval("hasIntersection('a', ['a'])").is_error());
}

TEST_CASE("inIPAddrRange") {
  CHECK(Eval("'10.1.2.3'.inIPAddrRange('10.0.0.0/8')").bool_value());
  CHECK_FALSE(Eval("'11.1.2.3'.inIPAddrRange('10.0.0.0/8')").bool_value());
  CHECK(Eval("'2001:db8::1'.inIPAddrRange('2001:db8::/32')").bool_value());
  CHECK_FALSE(Eval("'10.1.2.3'.inIPAddrRange('2001:db8::/32')").bool_value());
  CHECK(Eval("'not an ip'.inIPAddrRange('10.0.0.0/8')").is_error());
  CHECK(Eval("'10.1.2.3'.inIPAddrRange('10.0.0.0/99')").is_error());
}

// A small directory: (object type, object id, relation, subject type, subject id) tuples.
class TestOracle : public RelationOracle {
 public:
  void Add(std::string ot, std::string oid, std::string rel, std::string st, std::string sid) {
    tuples_.insert({ot, oid, rel, st, sid});
  }
  Result<bool> Check(ObjectRef object, std::string_view relation, ObjectRef subject,
                     std::string_view) const override {
    if (object.type != "document") return Status::InvalidArgument("unknown object type '" + std::string(object.type) + "'");
    ++calls;
    return tuples_.count({std::string(object.type), std::string(object.id), std::string(relation),
                          std::string(subject.type), std::string(subject.id)}) > 0;
  }
  mutable int calls = 0;

 private:
  std::set<std::tuple<std::string, std::string, std::string, std::string, std::string>> tuples_;
};

TEST_CASE("check() asks the activation's RelationOracle") {
  TestOracle oracle;
  oracle.Add("document", "readme", "editor", "user", "alice");
  Activation act;
  act.set_oracle(&oracle);
  act.Bind("R", FromJson({{"kind", "document"}, {"id", "readme"}}));
  act.Bind("P", FromJson({{"id", "alice"}}));
  CHECK(Eval("check('document', 'readme', 'editor', 'user', 'alice')", act).bool_value());
  CHECK_FALSE(Eval("check('document', 'readme', 'editor', 'user', 'bob')", act).bool_value());
  CHECK(Eval("check(R, 'editor', P)", act).bool_value());
  CHECK_FALSE(Eval("check(R, 'viewer', P)", act).bool_value());
  CHECK(oracle.calls == 4);

  // The oracle's errors become CEL error values naming the problem.
  Value v = Eval("check('folder', 'x', 'editor', 'user', 'alice')", act);
  REQUIRE(v.is_error());
  CHECK(std::string(v.error_message()).find("unknown object type 'folder'") != std::string::npos);
  // ...which || can absorb.
  CHECK(Eval("check('folder', 'x', 'editor', 'user', 'alice') || true", act).bool_value());

  act.Bind("R", FromJson({{"kind", "document"}}));
  CHECK(Eval("check(R, 'editor', P)", act).is_error());
  CHECK(Eval("check(R, 1, P)", act).is_error());

  Activation no_directory;
  no_directory.Bind("R", FromJson({{"kind", "document"}, {"id", "readme"}}));
  no_directory.Bind("P", FromJson({{"id", "alice"}}));
  v = Eval("check(R, 'editor', P)", no_directory);
  REQUIRE(v.is_error());
  CHECK(std::string(v.error_message()).find("no directory") != std::string::npos);
}

TEST_CASE("check() is never folded at compile time") {
  auto program = testing::MustCompile("check('document', 'readme', 'editor', 'user', 'alice')");
  CHECK_FALSE(program->is_constant());
  TestOracle oracle;
  Activation act;
  act.set_oracle(&oracle);
  CHECK_FALSE(Evaluate(*program, act).bool_value());
  oracle.Add("document", "readme", "editor", "user", "alice");
  CHECK(Evaluate(*program, act).bool_value());
}

}  // namespace
}  // namespace warden::cel
