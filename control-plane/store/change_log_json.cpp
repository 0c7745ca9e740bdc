#include "control-plane/store/change_log_json.h"

#include <nlohmann/json.hpp>

#include "common/util/json_text.h"

namespace warden::control_plane {
namespace {

void AppendRelationOp(std::string& out, const char* name, const directory::RelationTuple& r) {
  out += "{\"op\":\"";
  out += name;
  out += "\",\"relation\":{\"object_id\":";
  AppendJsonString(out, r.object_id);
  out += ",\"object_type\":";
  AppendJsonString(out, r.object_type);
  out += ",\"relation\":";
  AppendJsonString(out, r.relation);
  out += ",\"subject_id\":";
  AppendJsonString(out, r.subject_id);
  if (!r.subject_relation.empty()) {
    out += ",\"subject_relation\":";
    AppendJsonString(out, r.subject_relation);
  }
  out += ",\"subject_type\":";
  AppendJsonString(out, r.subject_type);
  out += "}}";
}

}  // namespace

std::string OpsToJsonText(const std::vector<protocol::DeltaOp>& ops) {
  using Kind = protocol::DeltaOp::Kind;
  std::string out;
  out.reserve(ops.size() * 160 + 2);
  out += '[';
  bool first = true;
  for (const auto& op : ops) {
    if (!first) out += ',';
    first = false;
    if (op.kind == Kind::kRelationSet) {
      AppendRelationOp(out, "relation.set", op.relation);
    } else if (op.kind == Kind::kRelationDelete) {
      AppendRelationOp(out, "relation.delete", op.relation);
    } else {
      out += protocol::OpToJson(op).dump();
    }
  }
  out += ']';
  return out;
}

}  // namespace warden::control_plane
