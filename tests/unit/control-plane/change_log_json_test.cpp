// The change log's direct JSON writer must say exactly what protocol::OpsToJson says.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "control-plane/store/change_log_json.h"

using namespace warden;
using protocol::DeltaOp;

TEST_CASE("OpsToJsonText equals OpsToJson for every kind of op, escapes included") {
  directory::ObjectRecord object{"user", "ann", "Ann \"A\"", nlohmann::json{{"roles", {"admin"}}}};
  std::vector<DeltaOp> ops = {
      DeltaOp::SetRelation({"document", "d1", "viewer", "user", "ann@example.com", ""}),
      DeltaOp::SetRelation({"document", "q\"uote\\slash\n\t\x01", "viewer", "group", "eng", "member"}),
      DeltaOp::DeleteRelation({"document", "d\xc3\xa9", "viewer", "user", "*", ""}),
      DeltaOp::SetObject(object),
      DeltaOp::DeleteObject("user", "bob"),
      DeltaOp::SetManifest({directory::ManifestSource::Format::kZed, "definition user {}\n", "schema.zed"}),
      DeltaOp::SetPolicy("p.yaml", "text: 1\n"),
      DeltaOp::DeletePolicy("old.yaml"),
  };
  std::string text = control_plane::OpsToJsonText(ops);
  auto parsed = nlohmann::json::parse(text);
  CHECK(parsed == protocol::OpsToJson(ops));
  CHECK(text.find("\\u0001") != std::string::npos);
  auto back = protocol::OpsFromJson(parsed);
  REQUIRE(back.ok());
  CHECK(back->size() == ops.size());
  CHECK((*back)[1].relation.object_id == "q\"uote\\slash\n\t\x01");
  CHECK(control_plane::OpsToJsonText({}) == "[]");
}
