#include "common/protocol/snapshot_format.h"

#include <doctest/doctest.h>

#include "common/directory/checker.h"
#include "common/protocol/delta.h"

using namespace warden;
using namespace warden::protocol;

namespace {

const char* kManifest = R"(model:
  version: 3
types:
  user: {}
  group:
    relations:
      member: user | group#member
  document:
    relations:
      viewer: user | group#member
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

std::shared_ptr<const Snapshot> Sample() {
  auto builder = directory::DirectorySnapshot::Builder::Create(
      directory::ManifestSource{directory::ManifestSource::Format::kYaml, kManifest, "manifest.yaml"});
  REQUIRE(builder.ok());
  REQUIRE(builder->AddObject({"document", "d1", "Doc \"one\"", {{"owner", "ada"}}}).ok());
  REQUIRE(builder->AddRelation({"document", "d1", "viewer", "user", "ada", ""}).ok());
  REQUIRE(builder->AddRelation({"document", "d1", "viewer", "group", "eng", "member"}).ok());
  REQUIRE(builder->AddRelation({"group", "eng", "member", "user", "quote\"d\\name", ""}).ok());  // takes the slow path
  REQUIRE(builder->AddRelation({"document", "d2", "viewer", "user", "zoë", ""}).ok());
  auto made = MakeSnapshot({{"policies/report.yaml", kPolicy}}, builder->Build(7), 7, "store-a");
  REQUIRE(made.ok());
  return *made;
}

}  // namespace

TEST_CASE("a snapshot serialized and parsed back holds the same content") {
  auto original = Sample();
  auto serialized = SerializeSnapshot(*original);
  CHECK(serialized->counts.policies == 1);
  CHECK(serialized->counts.manifest == 1);
  CHECK(serialized->counts.objects == 1);
  CHECK(serialized->counts.relations == 4);
  CHECK(serialized->sha256 == Sha256Hex(serialized->body));
  auto parsed = ParseSnapshot(serialized->body, 7, "store-a");
  REQUIRE(parsed.ok());
  CHECK((*parsed)->revision == 7);
  CHECK((*parsed)->directory->relation_count() == 4);
  CHECK((*parsed)->policy_sources->size() == 1);
  // Relation lines are written without a JSON tree: each is the op's JSON, byte for byte.
  size_t relation_lines = 0;
  for (size_t at = 0; at < serialized->body.size();) {
    size_t end = serialized->body.find('\n', at);
    REQUIRE(end != std::string::npos);
    std::string line = serialized->body.substr(at, end - at);
    at = end + 1;
    auto json = nlohmann::json::parse(line);
    if (json["op"] != "relation.set") continue;
    auto ops = OpsFromJson(nlohmann::json::array({json}));
    REQUIRE(ops.ok());
    CHECK(OpToJson(ops->at(0)).dump() == line);
    ++relation_lines;
  }
  CHECK(relation_lines == 4);
  // The same bytes again: parsing lost nothing the format carries.
  CHECK(SerializeSnapshot(**parsed)->body == serialized->body);
  auto check = [&](const std::string& object_id, const std::string& user) {
    directory::CheckRequest request;
    request.object_type = "document";
    request.object_id = object_id;
    request.relation = "can_view";
    request.subject_type = "user";
    request.subject_id = user;
    auto result = directory::Check(*(*parsed)->directory, request);
    REQUIRE(result.ok());
    return result->allowed;
  };
  CHECK(check("d1", "ada"));
  CHECK(check("d1", "quote\"d\\name"));  // through the group: the escaped id survived the slow path
  CHECK(check("d2", "zoë"));
  CHECK_FALSE(check("d2", "ada"));
}

TEST_CASE("a snapshot out of order, or holding other ops, is refused naming the line") {
  std::string manifest_line = OpToJson(DeltaOp::SetManifest({directory::ManifestSource::Format::kYaml, kManifest, "m"})).dump();
  std::string relation_line =
      OpToJson(DeltaOp::SetRelation({"document", "d1", "viewer", "user", "ada", ""})).dump();
  auto out_of_order = ParseSnapshot(relation_line + "\n" + manifest_line + "\n", 1, "s");
  // The relation comes before the manifest that allows it, so it is refused where it stands.
  CHECK(out_of_order.status().message().find("snapshot line 1") != std::string::npos);
  auto two_manifests = ParseSnapshot(manifest_line + "\n" + manifest_line + "\n", 1, "s");
  CHECK(two_manifests.status().message().find("line 2: manifest.set out of order") != std::string::npos);
  auto deletion = ParseSnapshot(
      manifest_line + "\n" + OpToJson(DeltaOp::DeleteRelation({"document", "d1", "viewer", "user", "ada", ""})).dump(), 1,
      "s");
  CHECK(deletion.status().message().find("only .set ops") != std::string::npos);
  auto disallowed = ParseSnapshot(
      manifest_line + "\n" + OpToJson(DeltaOp::SetRelation({"document", "d1", "editor", "user", "ada", ""})).dump(), 1,
      "s");
  CHECK(disallowed.status().message().find("line 2") != std::string::npos);
  CHECK_FALSE(ParseSnapshot("not json\n", 1, "s").ok());
}
