#include "common/directory/data_json.h"

#include <initializer_list>
#include <string_view>

namespace warden::directory {
namespace {

bool IsBookkeeping(std::string_view key) {
  return key == "created_at" || key == "updated_at" || key == "etag" || key == "hash";
}

Status CheckKeys(const nlohmann::json& j, std::initializer_list<std::string_view> allowed) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = IsBookkeeping(it.key());
    for (std::string_view a : allowed) ok = ok || it.key() == a;
    if (!ok) return Status::InvalidArgument("unknown field '" + it.key() + "'");
  }
  return Status::Ok();
}

Status GetString(const nlohmann::json& j, const char* field, bool required, std::string& out) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    if (required) return Status::InvalidArgument(std::string(field) + ": required");
    return Status::Ok();
  }
  if (!it->is_string()) return Status::InvalidArgument(std::string(field) + ": must be a string");
  out = it->get<std::string>();
  if (required && out.empty()) return Status::InvalidArgument(std::string(field) + ": must not be empty");
  return Status::Ok();
}

}  // namespace

Result<ObjectRecord> ObjectFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::InvalidArgument("an object must be a JSON object");
  WARDEN_RETURN_IF_ERROR(CheckKeys(j, {"type", "id", "display_name", "properties"}));
  ObjectRecord o;
  WARDEN_RETURN_IF_ERROR(GetString(j, "type", true, o.type));
  WARDEN_RETURN_IF_ERROR(GetString(j, "id", true, o.id));
  WARDEN_RETURN_IF_ERROR(GetString(j, "display_name", false, o.display_name));
  auto props = j.find("properties");
  if (props != j.end() && !props->is_null()) {
    if (!props->is_object()) return Status::InvalidArgument("properties: must be a JSON object");
    o.properties = *props;
  }
  return o;
}

Result<RelationTuple> RelationFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::InvalidArgument("a relation must be a JSON object");
  WARDEN_RETURN_IF_ERROR(CheckKeys(
      j, {"object_type", "object_id", "relation", "subject_type", "subject_id", "subject_relation"}));
  RelationTuple r;
  WARDEN_RETURN_IF_ERROR(GetString(j, "object_type", true, r.object_type));
  WARDEN_RETURN_IF_ERROR(GetString(j, "object_id", true, r.object_id));
  WARDEN_RETURN_IF_ERROR(GetString(j, "relation", true, r.relation));
  WARDEN_RETURN_IF_ERROR(GetString(j, "subject_type", true, r.subject_type));
  WARDEN_RETURN_IF_ERROR(GetString(j, "subject_id", true, r.subject_id));
  WARDEN_RETURN_IF_ERROR(GetString(j, "subject_relation", false, r.subject_relation));
  return r;
}

nlohmann::json ObjectToJson(const ObjectRecord& o) {
  return {{"type", o.type}, {"id", o.id}, {"display_name", o.display_name}, {"properties", o.properties}};
}

nlohmann::json RelationToJson(const RelationTuple& r) {
  nlohmann::json j = {{"object_type", r.object_type},   {"object_id", r.object_id},
                      {"relation", r.relation},         {"subject_type", r.subject_type},
                      {"subject_id", r.subject_id}};
  if (!r.subject_relation.empty()) j["subject_relation"] = r.subject_relation;
  return j;
}

}  // namespace warden::directory
