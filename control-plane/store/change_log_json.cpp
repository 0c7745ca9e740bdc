#include "control-plane/store/change_log_json.h"

#include <nlohmann/json.hpp>

namespace warden::control_plane {
namespace {

// A JSON string literal, escaped as nlohmann::json::dump() does (UTF-8 passes through).
void AppendString(std::string& out, const std::string& text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void AppendRelationOp(std::string& out, const char* name, const directory::RelationTuple& r) {
  out += "{\"op\":\"";
  out += name;
  out += "\",\"relation\":{\"object_id\":";
  AppendString(out, r.object_id);
  out += ",\"object_type\":";
  AppendString(out, r.object_type);
  out += ",\"relation\":";
  AppendString(out, r.relation);
  out += ",\"subject_id\":";
  AppendString(out, r.subject_id);
  if (!r.subject_relation.empty()) {
    out += ",\"subject_relation\":";
    AppendString(out, r.subject_relation);
  }
  out += ",\"subject_type\":";
  AppendString(out, r.subject_type);
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
