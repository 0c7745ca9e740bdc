// /v1/objects, /v1/relations and /v1/manifest.
#include <charconv>
#include <cstring>
#include <variant>

#include <nlohmann/json.hpp>

#include "common/directory/data_json.h"
#include "control-plane/admin_api.h"
#include "control-plane/relation_scan.h"

namespace warden::control_plane {
namespace {

using http::Method;
using protocol::DeltaOp;

Result<size_t> PageSize(const http::Request& request) {
  auto size = QueryUint(request, "page_size", 100, 1, 10'000);
  if (!size.ok()) return size.status();
  return static_cast<size_t>(*size);
}

Result<directory::RelationTuple> RelationFromQuery(const http::Request& request, const AdminLimits& limits) {
  directory::RelationTuple r;
  auto get = [&](const char* name, std::string& out) -> Status {
    auto value = request.query_param(name);
    if (value) out = *value;
    return Status::Ok();
  };
  WARDEN_RETURN_IF_ERROR(get("object_type", r.object_type));
  WARDEN_RETURN_IF_ERROR(get("object_id", r.object_id));
  WARDEN_RETURN_IF_ERROR(get("relation", r.relation));
  WARDEN_RETURN_IF_ERROR(get("subject_type", r.subject_type));
  WARDEN_RETURN_IF_ERROR(get("subject_id", r.subject_id));
  WARDEN_RETURN_IF_ERROR(get("subject_relation", r.subject_relation));
  WARDEN_RETURN_IF_ERROR(CheckRelation("relation", r, limits));
  return r;
}

// Whether the directory holds exactly `r`.
bool HasRelation(const directory::DirectorySnapshot& dir, const directory::RelationTuple& r) {
  directory::RelationFilter filter{r.object_type, r.object_id, r.relation, r.subject_type, r.subject_id,
                                   r.subject_relation};
  std::string cursor;
  do {
    auto page = dir.ListRelations(filter, 1000, cursor);
    if (!page.ok()) return false;
    for (const auto& found : page->relations) {
      if (found == r) return true;
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  return false;
}

// Whether ParseJsonBody would take the body as JSON on its Content-Type alone (absent, or
// application/json): only then may the fast reader take it, so a 415 stays a 415.
bool PlainJsonBody(const http::Request& request) {
  std::string_view type = request.header("Content-Type");
  std::string_view media = type.substr(0, type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return media.empty() || media == "application/json";
}

// "relations[i]" without a heap allocation: built for every relation of a batch, used only for
// the message of a refusal.
struct BatchField {
  explicit BatchField(size_t i) {
    static constexpr std::string_view kPrefix = "relations[";
    std::memcpy(text, kPrefix.data(), kPrefix.size());
    char* end = std::to_chars(text + kPrefix.size(), text + sizeof text - 1, i).ptr;
    *end++ = ']';
    size = static_cast<size_t>(end - text);
  }
  std::string_view view() const { return {text, size}; }
  char text[40];
  size_t size = 0;
};

// The relations a POST /v1/relations body names: one relation, or {"relations": [...]} (never
// empty), each checked (CheckRelation); or the refusal to send. The common shape is read without
// a JSON tree (relation_scan.h); anything else takes nlohmann's, with the same answers.
std::variant<std::vector<directory::RelationTuple>, http::Response> RelationsToWrite(const http::Request& request,
                                                                                   const AdminLimits& limits) {
  std::vector<directory::RelationTuple> relations;
  if (PlainJsonBody(request) && request.max_json_depth() >= kRelationBatchDepth) {
    if (auto batch = ScanRelationBatch(request.body())) {
      for (size_t i = 0; i < batch->size(); ++i) {
        if (Status s = CheckRelation(BatchField(i).view(), (*batch)[i], limits); !s.ok()) return http::ErrorResponse(s);
      }
      return std::move(*batch);
    }
    if (auto one = ScanRelation(request.body())) {
      if (Status s = CheckRelation("relation", *one, limits); !s.ok()) return http::ErrorResponse(s);
      relations.push_back(std::move(*one));
      return relations;
    }
  }
  nlohmann::json json;
  if (auto error = http::ParseJsonBody(request, json)) return std::move(*error);
  if (json.is_object() && json.contains("relations")) {
    if (json.size() != 1) return http::ErrorResponse(400, "invalid_argument", "body: a batch holds only \"relations\"");
    const auto& list = json["relations"];
    if (!list.is_array()) return http::ErrorResponse(400, "invalid_argument", "relations: must be an array");
    if (list.empty()) return http::ErrorResponse(400, "invalid_argument", "relations: empty");
    for (size_t i = 0; i < list.size(); ++i) {
      BatchField field(i);
      auto r = directory::RelationFromJson(list[i]);
      if (!r.ok()) return http::ErrorResponse(r.status().WithPrefix(field.view()));
      if (Status s = CheckRelation(field.view(), *r, limits); !s.ok()) return http::ErrorResponse(s);
      relations.push_back(std::move(*r));
    }
  } else {
    auto r = directory::RelationFromJson(json);
    if (!r.ok()) return http::ErrorResponse(r.status());
    if (Status s = CheckRelation("relation", *r, limits); !s.ok()) return http::ErrorResponse(s);
    relations.push_back(std::move(*r));
  }
  return relations;
}

Result<directory::ManifestSource> ManifestFromJson(const nlohmann::json& body) {
  if (!body.is_object()) return Status::InvalidArgument("body: must be an object {\"format\", \"text\"}");
  directory::ManifestSource source;
  for (const auto& [key, value] : body.items()) {
    if (key != "format" && key != "text" && key != "name") {
      return Status::InvalidArgument("manifest." + key + ": unknown field (expected format, text, name)");
    }
    if (!value.is_string()) return Status::InvalidArgument("manifest." + key + ": must be a string");
  }
  if (!body.contains("text")) return Status::InvalidArgument("manifest.text: required");
  source.text = body["text"].get<std::string>();
  std::string format = body.value("format", std::string("yaml"));
  if (format == "zed") {
    source.format = directory::ManifestSource::Format::kZed;
  } else if (format != "yaml") {
    return Status::InvalidArgument("manifest.format: '" + format + "' is not 'yaml' or 'zed'");
  }
  source.name = body.value("name", std::string(format == "zed" ? "schema.zed" : "manifest.yaml"));
  if (source.text.size() > (4u << 20)) return Status::InvalidArgument("manifest.text: larger than 4 MiB");
  return source;
}

}  // namespace

void AddDirectoryRoutes(http::Router& router, ControlPlane& cp, const AdminLimits& limits) {
  const size_t body = limits.max_write_body;

  router.Add(Method::kGet, "/v1/objects", Authed(cp, Scope::kRead, 0, [&cp, limits](http::Request& request, const Caller&) {
               auto size = PageSize(request);
               if (!size.ok()) return http::ErrorResponse(size.status());
               std::string type = request.query_param("type").value_or("");
               if (!type.empty()) {
                 if (Status s = CheckName("type", type, limits); !s.ok()) return http::ErrorResponse(s);
               }
               auto snapshot = cp.current();
               auto page = snapshot->directory->ListObjects(type, *size, request.query_param("cursor").value_or(""));
               if (!page.ok()) return http::ErrorResponse(page.status());
               nlohmann::json objects = nlohmann::json::array();
               for (const auto& o : page->objects) objects.push_back(directory::ObjectToJson(o));
               return http::JsonResponse(
                   {{"objects", objects}, {"next_cursor", page->next_cursor}, {"revision", snapshot->revision}});
             }));

  router.Add(Method::kGet, "/v1/objects/{type}/{id}",
             Authed(cp, Scope::kRead, 0, [&cp](http::Request& request, const Caller&) {
               auto snapshot = cp.current();
               auto object = snapshot->directory->GetObject(request.path_param("type"), request.path_param("id"));
               if (!object.ok()) return http::ErrorResponse(object.status());
               return http::JsonResponse(directory::ObjectToJson(*object));
             }));

  router.Add(Method::kPut, "/v1/objects/{type}/{id}",
             Authed(cp, Scope::kWrite, body, [&cp, limits](http::Request& request, const Caller& caller) {
               nlohmann::json json;
               if (auto error = http::ParseJsonBody(request, json)) return *error;
               if (!json.is_object()) return http::ErrorResponse(400, "invalid_argument", "body: must be a JSON object");
               std::string type(request.path_param("type")), id(request.path_param("id"));
               for (const char* key : {"type", "id"}) {
                 if (json.contains(key) && json[key] != (std::string_view(key) == "type" ? type : id)) {
                   return http::ErrorResponse(400, "invalid_argument",
                                              std::string(key) + ": differs from the " + key + " in the path");
                 }
               }
               json["type"] = type;
               json["id"] = id;
               auto object = directory::ObjectFromJson(json);
               if (!object.ok()) return http::ErrorResponse(object.status());
               if (Status s = CheckObject("object", *object, limits); !s.ok()) return http::ErrorResponse(s);
               auto outcome = cp.Write({DeltaOp::SetObject(std::move(*object))}, caller.name);
               if (!outcome.ok()) return http::ErrorResponse(outcome.status());
               return WriteResponse(cp, *outcome);
             }));

  router.Add(Method::kDelete, "/v1/objects/{type}/{id}",
             Authed(cp, Scope::kWrite, body, [&cp](http::Request& request, const Caller& caller) {
               std::string type(request.path_param("type")), id(request.path_param("id"));
               auto outcome = cp.Write(
                   [&](const Snapshot& current) -> Result<std::vector<DeltaOp>> {
                     auto found = current.directory->GetObject(type, id);
                     if (!found.ok()) return Status::NotFound("object " + type + ":" + id + " does not exist");
                     return std::vector<DeltaOp>{DeltaOp::DeleteObject(type, id)};
                   },
                   caller.name);
               if (!outcome.ok()) return http::ErrorResponse(outcome.status());
               return WriteResponse(cp, *outcome);
             }));

  router.Add(Method::kGet, "/v1/relations", Authed(cp, Scope::kRead, 0, [&cp](http::Request& request, const Caller&) {
               auto size = PageSize(request);
               if (!size.ok()) return http::ErrorResponse(size.status());
               directory::RelationFilter filter;
               filter.object_type = request.query_param("object_type").value_or("");
               filter.object_id = request.query_param("object_id").value_or("");
               filter.relation = request.query_param("relation").value_or("");
               filter.subject_type = request.query_param("subject_type").value_or("");
               filter.subject_id = request.query_param("subject_id").value_or("");
               filter.subject_relation = request.query_param("subject_relation").value_or("");
               auto snapshot = cp.current();
               auto page = snapshot->directory->ListRelations(filter, *size, request.query_param("cursor").value_or(""));
               if (!page.ok()) return http::ErrorResponse(page.status());
               nlohmann::json relations = nlohmann::json::array();
               for (const auto& r : page->relations) relations.push_back(directory::RelationToJson(r));
               return http::JsonResponse(
                   {{"relations", relations}, {"next_cursor", page->next_cursor}, {"revision", snapshot->revision}});
             }));

  // One relation, or a batch {"relations": [...]} committed as one revision.
  router.Add(Method::kPost, "/v1/relations",
             Authed(cp, Scope::kWrite, body, [&cp, limits](http::Request& request, const Caller& caller) {
               auto relations = RelationsToWrite(request, limits);
               if (auto* refusal = std::get_if<http::Response>(&relations)) return std::move(*refusal);
               auto& tuples = std::get<std::vector<directory::RelationTuple>>(relations);
               std::vector<DeltaOp> ops;
               ops.reserve(tuples.size());
               for (auto& r : tuples) ops.push_back(DeltaOp::SetRelation(std::move(r)));
               auto outcome = cp.Write(std::move(ops), caller.name);
               if (!outcome.ok()) return http::ErrorResponse(outcome.status());
               return WriteResponse(cp, *outcome);
             }));

  // The exact tuple to delete goes in the query (object_type, object_id, relation, subject_type,
  // subject_id, subject_relation?).
  router.Add(Method::kDelete, "/v1/relations",
             Authed(cp, Scope::kWrite, body, [&cp, limits](http::Request& request, const Caller& caller) {
               auto r = RelationFromQuery(request, limits);
               if (!r.ok()) return http::ErrorResponse(r.status());
               auto outcome = cp.Write(
                   [&](const Snapshot& current) -> Result<std::vector<DeltaOp>> {
                     if (!HasRelation(*current.directory, *r)) {
                       return Status::NotFound("relation " + r->ToString() + " does not exist");
                     }
                     return std::vector<DeltaOp>{DeltaOp::DeleteRelation(*r)};
                   },
                   caller.name);
               if (!outcome.ok()) return http::ErrorResponse(outcome.status());
               return WriteResponse(cp, *outcome);
             }));

  router.Add(Method::kGet, "/v1/manifest", Authed(cp, Scope::kRead, 0, [&cp](http::Request&, const Caller&) {
               auto snapshot = cp.current();
               const auto& source = snapshot->directory->manifest_source();
               if (!source) {
                 return http::ErrorResponse(404, "not_found", "manifest: none stored; Topaz's built-in model applies");
               }
               bool zed = source->format == directory::ManifestSource::Format::kZed;
               return http::JsonResponse({{"format", zed ? "zed" : "yaml"},
                                          {"name", source->name},
                                          {"text", source->text},
                                          {"sha256", protocol::Sha256Hex(source->text)},
                                          {"revision", snapshot->revision}});
             }));

  router.Add(Method::kPut, "/v1/manifest",
             Authed(cp, Scope::kWrite, body, [&cp](http::Request& request, const Caller& caller) {
               nlohmann::json json;
               if (auto error = http::ParseJsonBody(request, json)) return *error;
               auto source = ManifestFromJson(json);
               if (!source.ok()) return http::ErrorResponse(source.status());
               auto outcome = cp.Write(
                   [&](const Snapshot& current) -> Result<std::vector<DeltaOp>> {
                     const auto& now = current.directory->manifest_source();
                     if (now && now->text == source->text && now->format == source->format) return std::vector<DeltaOp>{};
                     return std::vector<DeltaOp>{DeltaOp::SetManifest(*source)};
                   },
                   caller.name);
               if (!outcome.ok()) return http::ErrorResponse(outcome.status());
               return WriteResponse(cp, *outcome);
             }));
}

}  // namespace warden::control_plane
