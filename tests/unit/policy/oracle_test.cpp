// Conditions that ask the directory: the RelationOracle in DecideOptions reaches CEL's check().
#include <set>
#include <tuple>

#include "tests/unit/policy/test_helpers.h"

using namespace warden;
using namespace warden::policy;
using namespace warden::policy::testing;

namespace {

// A tiny in-memory directory: (object type, object id, relation, subject type, subject id).
class FakeDirectory : public RelationOracle {
 public:
  void Add(std::string ot, std::string oi, std::string rel, std::string st, std::string si) {
    tuples_.insert({ot, oi, rel, st, si});
  }
  Result<bool> Check(ObjectRef object, std::string_view relation, ObjectRef subject,
                     std::string_view) const override {
    ++calls;
    if (relation == "no_such_relation") return Status::InvalidArgument("unknown relation 'no_such_relation'");
    return tuples_.contains({std::string(object.type), std::string(object.id), std::string(relation),
                             std::string(subject.type), std::string(subject.id)});
  }
  mutable int calls = 0;

 private:
  std::set<std::tuple<std::string, std::string, std::string, std::string, std::string>> tuples_;
};

const char* kPolicy = R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  rules:
    - name: viewers
      actions: ["view"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: check(R, "viewer", P)
    - name: editors
      actions: ["edit"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          all:
            of:
              - expr: check("doc", R.id, "editor", "user", P.id)
              - expr: R.attr.status != "archived"
    - name: broken
      actions: ["share"]
      effect: EFFECT_ALLOW
      roles: ["user"]
      condition:
        match:
          expr: check(R, "no_such_relation", P)
)";

}  // namespace

TEST_CASE("a rule can require a relationship in the directory") {
  auto set = MustCompile({{"doc.yaml", kPolicy}});
  FakeDirectory dir;
  dir.Add("doc", "d1", "viewer", "user", "alice");
  dir.Add("doc", "d1", "editor", "user", "bob");
  DecideOptions options;
  options.oracle = &dir;
  const Resource d1 = MakeResource("doc", "d1", {{"status", "draft"}});
  const std::vector<std::string> actions = {"view", "edit", "share"};

  Decision alice = set->Decide(MakePrincipal("alice", {"user"}), d1, actions, options);
  CHECK(alice.Find("view")->effect == Effect::kAllow);
  CHECK(alice.Find("edit")->effect == Effect::kDeny);
  CHECK(alice.Find("share")->effect == Effect::kDeny);  // the oracle's error: the condition does not hold

  Decision bob = set->Decide(MakePrincipal("bob", {"user"}), d1, actions, options);
  CHECK(bob.Find("view")->effect == Effect::kDeny);
  CHECK(bob.Find("edit")->effect == Effect::kAllow);
  CHECK(dir.calls > 0);

  // Without a directory, check() is an error and nothing that needs it is allowed.
  Decision none = set->Decide(MakePrincipal("alice", {"user"}), d1, actions);
  CHECK(none.Find("view")->effect == Effect::kDeny);
}
