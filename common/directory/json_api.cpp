#include "common/directory/json_api.h"

#include <initializer_list>
#include <string_view>

#include "common/directory/data_json.h"
#include "common/directory/lookup.h"

namespace warden::directory {
namespace {

using nlohmann::json;

Status RequireObject(const json& request) {
  if (!request.is_object()) return Status::InvalidArgument("request: must be a JSON object");
  return Status::Ok();
}

Status OnlyKeys(const json& request, std::initializer_list<std::string_view> allowed) {
  for (auto it = request.begin(); it != request.end(); ++it) {
    bool ok = false;
    for (std::string_view a : allowed) ok = ok || it.key() == a;
    if (!ok) return Status::InvalidArgument(it.key() + ": unknown field");
  }
  return Status::Ok();
}

Status String(const json& request, const char* field, bool required, std::string& out) {
  auto it = request.find(field);
  if (it == request.end() || it->is_null()) {
    return required ? Status::InvalidArgument(std::string(field) + ": required") : Status::Ok();
  }
  if (!it->is_string()) return Status::InvalidArgument(std::string(field) + ": must be a string");
  out = it->get<std::string>();
  if (required && out.empty()) return Status::InvalidArgument(std::string(field) + ": required");
  return Status::Ok();
}

Status Bool(const json& request, const char* field, bool& out) {
  auto it = request.find(field);
  if (it == request.end() || it->is_null()) return Status::Ok();
  if (!it->is_boolean()) return Status::InvalidArgument(std::string(field) + ": must be true or false");
  out = it->get<bool>();
  return Status::Ok();
}

Status Size(const json& request, const char* field, size_t& out) {
  auto it = request.find(field);
  if (it == request.end() || it->is_null()) return Status::Ok();
  if (!it->is_number_integer() || it->get<int64_t>() < 0) {
    return Status::InvalidArgument(std::string(field) + ": must be a non-negative integer");
  }
  out = static_cast<size_t>(it->get<int64_t>());
  return Status::Ok();
}

}  // namespace

Result<json> CheckJson(const DirectorySnapshot& snapshot, const json& request, const CheckLimits& limits) {
  WARDEN_RETURN_IF_ERROR(RequireObject(request));
  WARDEN_RETURN_IF_ERROR(OnlyKeys(request, {"object_type", "object_id", "relation", "subject_type", "subject_id",
                                            "subject_relation", "trace"}));
  CheckRequest r;
  WARDEN_RETURN_IF_ERROR(String(request, "object_type", true, r.object_type));
  WARDEN_RETURN_IF_ERROR(String(request, "object_id", true, r.object_id));
  WARDEN_RETURN_IF_ERROR(String(request, "relation", true, r.relation));
  WARDEN_RETURN_IF_ERROR(String(request, "subject_type", true, r.subject_type));
  WARDEN_RETURN_IF_ERROR(String(request, "subject_id", true, r.subject_id));
  WARDEN_RETURN_IF_ERROR(String(request, "subject_relation", false, r.subject_relation));
  WARDEN_RETURN_IF_ERROR(Bool(request, "trace", r.trace));
  auto result = Check(snapshot, r, limits);
  if (!result.ok()) return result.status();
  return json{{"check", result->allowed}, {"trace", result->trace}};
}

Result<json> LookupJson(const DirectorySnapshot& snapshot, const json& request, const CheckLimits& limits) {
  WARDEN_RETURN_IF_ERROR(RequireObject(request));
  std::string kind;
  WARDEN_RETURN_IF_ERROR(String(request, "lookup", true, kind));
  json out;
  if (kind == "resources") {
    WARDEN_RETURN_IF_ERROR(OnlyKeys(request, {"lookup", "subject_type", "subject_id", "subject_relation", "permission",
                                              "object_type", "page_size", "cursor"}));
    LookupResourcesRequest r;
    WARDEN_RETURN_IF_ERROR(String(request, "subject_type", true, r.subject_type));
    WARDEN_RETURN_IF_ERROR(String(request, "subject_id", true, r.subject_id));
    WARDEN_RETURN_IF_ERROR(String(request, "subject_relation", false, r.subject_relation));
    WARDEN_RETURN_IF_ERROR(String(request, "permission", true, r.permission));
    WARDEN_RETURN_IF_ERROR(String(request, "object_type", true, r.object_type));
    WARDEN_RETURN_IF_ERROR(Size(request, "page_size", r.page_size));
    WARDEN_RETURN_IF_ERROR(String(request, "cursor", false, r.cursor));
    auto result = LookupResources(snapshot, r, limits);
    if (!result.ok()) return result.status();
    out = {{"results", result->ids}, {"next_cursor", result->next_cursor}};
  } else if (kind == "subjects") {
    WARDEN_RETURN_IF_ERROR(OnlyKeys(request, {"lookup", "object_type", "object_id", "permission", "subject_type",
                                              "page_size", "cursor"}));
    LookupSubjectsRequest r;
    WARDEN_RETURN_IF_ERROR(String(request, "object_type", true, r.object_type));
    WARDEN_RETURN_IF_ERROR(String(request, "object_id", true, r.object_id));
    WARDEN_RETURN_IF_ERROR(String(request, "permission", true, r.permission));
    WARDEN_RETURN_IF_ERROR(String(request, "subject_type", true, r.subject_type));
    WARDEN_RETURN_IF_ERROR(Size(request, "page_size", r.page_size));
    WARDEN_RETURN_IF_ERROR(String(request, "cursor", false, r.cursor));
    auto result = LookupSubjects(snapshot, r, limits);
    if (!result.ok()) return result.status();
    out = {{"results", result->ids}, {"next_cursor", result->next_cursor}};
    if (result->wildcard) out["wildcard"] = true;
  } else {
    return Status::InvalidArgument("lookup: must be \"resources\" or \"subjects\", not \"" + kind + "\"");
  }
  return out;
}

Result<json> GetObjectJson(const DirectorySnapshot& snapshot, const json& request) {
  WARDEN_RETURN_IF_ERROR(RequireObject(request));
  WARDEN_RETURN_IF_ERROR(OnlyKeys(request, {"object_type", "object_id", "with_relations"}));
  std::string type, id;
  bool with_relations = false;
  WARDEN_RETURN_IF_ERROR(String(request, "object_type", true, type));
  WARDEN_RETURN_IF_ERROR(String(request, "object_id", true, id));
  WARDEN_RETURN_IF_ERROR(Bool(request, "with_relations", with_relations));
  if (type == "user") {
    auto user = snapshot.ResolveUser(id);
    if (user) id = *user;
  }
  auto object = snapshot.GetObject(type, id);
  if (!object.ok()) return object.status();
  json out = {{"result", ObjectToJson(*object)}};
  if (with_relations) {
    json relations = json::array();
    for (bool outgoing : {true, false}) {
      RelationFilter f;
      (outgoing ? f.object_type : f.subject_type) = type;
      (outgoing ? f.object_id : f.subject_id) = id;
      std::string cursor;
      do {
        auto page = snapshot.ListRelations(f, 10000, cursor);
        if (!page.ok()) return page.status();
        for (const RelationTuple& r : page->relations) relations.push_back(RelationToJson(r));
        cursor = page->next_cursor;
      } while (!cursor.empty());
    }
    out["relations"] = std::move(relations);
  }
  return out;
}

Result<json> GetRelationsJson(const DirectorySnapshot& snapshot, const json& request) {
  WARDEN_RETURN_IF_ERROR(RequireObject(request));
  WARDEN_RETURN_IF_ERROR(OnlyKeys(request, {"object_type", "object_id", "relation", "subject_type", "subject_id",
                                            "subject_relation", "page_size", "cursor"}));
  RelationFilter f;
  WARDEN_RETURN_IF_ERROR(String(request, "object_type", false, f.object_type));
  WARDEN_RETURN_IF_ERROR(String(request, "object_id", false, f.object_id));
  WARDEN_RETURN_IF_ERROR(String(request, "relation", false, f.relation));
  WARDEN_RETURN_IF_ERROR(String(request, "subject_type", false, f.subject_type));
  WARDEN_RETURN_IF_ERROR(String(request, "subject_id", false, f.subject_id));
  WARDEN_RETURN_IF_ERROR(String(request, "subject_relation", false, f.subject_relation));
  size_t page_size = 100;
  std::string cursor;
  WARDEN_RETURN_IF_ERROR(Size(request, "page_size", page_size));
  WARDEN_RETURN_IF_ERROR(String(request, "cursor", false, cursor));
  auto page = snapshot.ListRelations(f, page_size, cursor);
  if (!page.ok()) return page.status();
  json results = json::array();
  for (const RelationTuple& r : page->relations) results.push_back(RelationToJson(r));
  return json{{"results", std::move(results)}, {"next_cursor", page->next_cursor}};
}

Result<json> GetObjectsJson(const DirectorySnapshot& snapshot, const json& request) {
  WARDEN_RETURN_IF_ERROR(RequireObject(request));
  WARDEN_RETURN_IF_ERROR(OnlyKeys(request, {"object_type", "page_size", "cursor"}));
  std::string type, cursor;
  size_t page_size = 100;
  WARDEN_RETURN_IF_ERROR(String(request, "object_type", false, type));
  WARDEN_RETURN_IF_ERROR(Size(request, "page_size", page_size));
  WARDEN_RETURN_IF_ERROR(String(request, "cursor", false, cursor));
  auto page = snapshot.ListObjects(type, page_size, cursor);
  if (!page.ok()) return page.status();
  json results = json::array();
  for (const ObjectRecord& o : page->objects) results.push_back(ObjectToJson(o));
  return json{{"results", std::move(results)}, {"next_cursor", page->next_cursor}};
}

Result<json> ExpandJson(const DirectorySnapshot& snapshot, const json& request) {
  WARDEN_RETURN_IF_ERROR(RequireObject(request));
  WARDEN_RETURN_IF_ERROR(OnlyKeys(request, {"object_type", "object_id", "permission", "expand"}));
  std::string type, id, permission;
  WARDEN_RETURN_IF_ERROR(String(request, "object_type", true, type));
  WARDEN_RETURN_IF_ERROR(String(request, "object_id", true, id));
  WARDEN_RETURN_IF_ERROR(String(request, "permission", true, permission));
  return Expand(snapshot, type, id, permission);
}

Result<json> ResolveIdentityJson(const DirectorySnapshot& snapshot, const json& request) {
  WARDEN_RETURN_IF_ERROR(RequireObject(request));
  WARDEN_RETURN_IF_ERROR(OnlyKeys(request, {"identity"}));
  std::string identity;
  WARDEN_RETURN_IF_ERROR(String(request, "identity", true, identity));
  auto user = snapshot.ResolveUser(identity);
  if (!user) return Status::NotFound("identity: no user has identity '" + identity + "'");
  return json{{"user", *user}};
}

Result<json> DirectoryRequestJson(const DirectorySnapshot& snapshot, const json& request, const CheckLimits& limits) {
  WARDEN_RETURN_IF_ERROR(RequireObject(request));
  if (request.contains("lookup")) return LookupJson(snapshot, request, limits);
  if (request.contains("expand")) {
    bool expand = false;
    WARDEN_RETURN_IF_ERROR(Bool(request, "expand", expand));
    if (expand) return ExpandJson(snapshot, request);
  }
  return CheckJson(snapshot, request, limits);
}

}  // namespace warden::directory
