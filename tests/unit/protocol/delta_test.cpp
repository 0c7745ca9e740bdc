#include "common/protocol/delta.h"

#include <doctest/doctest.h>

#include "common/directory/checker.h"
#include "common/protocol/apply.h"

using namespace warden;
using namespace warden::protocol;
using nlohmann::json;

namespace {

const char* kManifest = R"(model:
  version: 3
types:
  user: {}
  document:
    relations:
      viewer: user
    permissions:
      can_view: viewer
)";

const char* kPolicy = R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: report
  version: default
  rules:
    - actions: ["read"]
      effect: EFFECT_ALLOW
      roles: ["reader"]
)";

std::shared_ptr<const Snapshot> BaseSnapshot() {
  auto builder = directory::DirectorySnapshot::Builder::Create(
      directory::ManifestSource{directory::ManifestSource::Format::kYaml, kManifest, "manifest.yaml"});
  REQUIRE(builder.ok());
  auto made = MakeSnapshot({}, builder->Build(1), 1, "store-a");
  REQUIRE(made.ok());
  return *made;
}

bool CanView(const Snapshot& snapshot, const std::string& user) {
  directory::CheckRequest check{"document", "d1", "can_view", "user", user, "", false};
  auto result = directory::Check(*snapshot.directory, check);
  REQUIRE(result.ok());
  return result->allowed;
}

}  // namespace

TEST_CASE("every op survives its JSON form") {
  std::vector<DeltaOp> ops = {
      DeltaOp::SetObject({"user", "alice", "Alice", json{{"roles", {"reader"}}}}),
      DeltaOp::DeleteObject("user", "bob"),
      DeltaOp::SetRelation({"document", "d1", "viewer", "user", "alice", ""}),
      DeltaOp::DeleteRelation({"document", "d1", "viewer", "user", "bob", ""}),
      DeltaOp::SetManifest({directory::ManifestSource::Format::kYaml, kManifest, "manifest.yaml"}),
      DeltaOp::SetPolicy("report.yaml", kPolicy),
      DeltaOp::DeletePolicy("old.yaml"),
  };
  json encoded = OpsToJson(ops);
  CHECK(encoded[5]["policy"]["sha256"] == Sha256Hex(kPolicy));
  auto decoded = OpsFromJson(encoded);
  REQUIRE(decoded.ok());
  REQUIRE(decoded->size() == ops.size());
  CHECK(OpsToJson(*decoded) == encoded);
}

TEST_CASE("malformed ops are refused naming the op and field") {
  auto unknown = OpsFromJson(json::array({json{{"op", "object.frob"}}}));
  CHECK(unknown.status().message() == "ops[0]: op: unknown 'object.frob'");
  auto missing = OpsFromJson(json::array({OpToJson(DeltaOp::SetObject({"user", "a", "", json::object()})),
                                          json{{"op", "relation.set"}, {"relation", {{"object_type", "document"}}}}}));
  CHECK_FALSE(missing.ok());
  CHECK(missing.status().message().rfind("ops[1]: relation", 0) == 0);
  json tampered = OpToJson(DeltaOp::SetPolicy("report.yaml", kPolicy));
  tampered["policy"]["text"] = "changed in transit";
  CHECK(OpFromJson(tampered).status().message() == "policy.sha256: does not match the text");
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("applying a revision makes a new snapshot and leaves the base untouched") {
  auto base = BaseSnapshot();
  auto next = ApplyRevision(*base, 2, {DeltaOp::SetRelation({"document", "d1", "viewer", "user", "alice", ""})});
  REQUIRE(next.ok());
  CHECK((*next)->revision == 2);
  CHECK((*next)->store_id == "store-a");
  CHECK(CanView(**next, "alice"));
  CHECK_FALSE(CanView(*base, "alice"));
  CHECK((*next)->policies == base->policies);  // no policy op: the compiled set is shared

  auto back = ApplyRevision(**next, 3, {DeltaOp::DeleteRelation({"document", "d1", "viewer", "user", "alice", ""})});
  REQUIRE(back.ok());
  CHECK_FALSE(CanView(**back, "alice"));
}

TEST_CASE("a revision that does not fit is refused whole") {
  auto base = BaseSnapshot();
  auto refused = ApplyRevision(*base, 2, {DeltaOp::SetRelation({"document", "d1", "viewer", "user", "alice", ""}),
                                          DeltaOp::SetRelation({"document", "d1", "owner", "user", "alice", ""})});
  CHECK_FALSE(refused.ok());
  CHECK(refused.status().message().find("owner") != std::string::npos);
  CHECK_FALSE(CanView(*base, "alice"));

  auto broken_policy = ApplyRevision(*base, 2, {DeltaOp::SetPolicy("bad.yaml", "resourcePolicy: [unclosed")});
  CHECK_FALSE(broken_policy.ok());
  CHECK(broken_policy.status().message().find("bad.yaml") != std::string::npos);

  CHECK(ApplyRevision(*base, 1, {}).status().code() == StatusCode::kFailedPrecondition);
}

TEST_CASE("policy ops recompile the set and change decisions") {
  auto base = BaseSnapshot();
  policy::Principal alice{"alice", {"reader"}, "", "", cel::Value()};
  policy::Resource report{"report", "r1", "", "", cel::Value()};
  const std::string actions[] = {"read"};
  CHECK_FALSE(base->policies->CoversResourceKind("report"));

  auto with_policy = ApplyRevision(*base, 2, {DeltaOp::SetPolicy("report.yaml", kPolicy)});
  REQUIRE(with_policy.ok());
  auto decision = (*with_policy)->policies->Decide(alice, report, actions);
  CHECK(decision.actions.front().effect == policy::Effect::kAllow);
  CHECK((*with_policy)->policy_sources->size() == 1);

  auto without = ApplyRevision(**with_policy, 3, {DeltaOp::DeletePolicy("report.yaml")});
  REQUIRE(without.ok());
  CHECK((*without)->policy_sources->empty());
  CHECK_FALSE((*without)->policies->CoversResourceKind("report"));
}

TEST_CASE("a revision recompiles policies under the expression limits its base was made with") {
  auto builder = directory::DirectorySnapshot::Builder::Create(
      directory::ManifestSource{directory::ManifestSource::Format::kYaml, kManifest, "manifest.yaml"});
  REQUIRE(builder.ok());
  policy::ExpressionLimits tight;
  tight.max_depth = 8;
  auto base = MakeSnapshot({}, builder->Build(1), 1, "store-a", tight);
  REQUIRE(base.ok());
  auto with_condition = [](int depth) {
    std::string expr = std::string(depth, '(') + "P.id == \"alice\"" + std::string(depth, ')');
    return std::string(kPolicy) + "      condition:\n        match:\n          expr: '" + expr + "'\n";
  };
  auto refused = ApplyRevision(**base, 2, {DeltaOp::SetPolicy("report.yaml", with_condition(12))});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().find("nested deeper than") != std::string::npos);

  auto accepted = ApplyRevision(**base, 2, {DeltaOp::SetPolicy("report.yaml", with_condition(1))});
  REQUIRE_MESSAGE(accepted.ok(), accepted.status().message());
  CHECK((*accepted)->expression_limits.max_depth == 8);
  // The same deep policy fits the default limits.
  CHECK(ApplyRevision(*BaseSnapshot(), 2, {DeltaOp::SetPolicy("report.yaml", with_condition(12))}).ok());
}
