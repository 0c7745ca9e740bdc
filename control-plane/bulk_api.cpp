// POST /v1/push (a whole folder as one revision) and POST /v1/import (JSON lines, atomic).
#include <algorithm>
#include <chrono>
#include <optional>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/directory/data_json.h"
#include "common/directory/snapshot.h"
#include "control-plane/admin_api.h"
#include "control-plane/relation_scan.h"

namespace warden::control_plane {
namespace {

using http::Method;
using protocol::DeltaOp;

// An item of a push or import and where it came from ("data/users.jsonl:12", "relations[3]").
struct Labelled {
  std::string where;
  size_t line = 0;  // 1-based for JSON lines; 0 otherwise
};

struct ParsedData {
  std::vector<std::pair<Labelled, directory::ObjectRecord>> objects;
  std::vector<std::pair<Labelled, directory::RelationTuple>> relations;
  std::vector<nlohmann::json> errors;  // {"where", "line"?, "message"}
};

void AddError(ParsedData& data, const Labelled& at, const std::string& message) {
  nlohmann::json e = {{"where", at.where}, {"message", message}};
  if (at.line) e["line"] = at.line;
  data.errors.push_back(std::move(e));
}

// One JSON value holding an object or a relation (a relation has a "relation" key).
void ParseItem(const nlohmann::json& item, const Labelled& at, const AdminLimits& limits, ParsedData& data) {
  if (!item.is_object()) return AddError(data, at, "must be a JSON object (an object or a relation)");
  if (item.contains("relation")) {
    auto r = directory::RelationFromJson(item);
    if (!r.ok()) return AddError(data, at, r.status().message());
    if (Status s = CheckRelation("relation", *r, limits); !s.ok()) return AddError(data, at, s.message());
    data.relations.emplace_back(at, std::move(*r));
  } else {
    auto o = directory::ObjectFromJson(item);
    if (!o.ok()) return AddError(data, at, o.status().message());
    if (Status s = CheckObject("object", *o, limits); !s.ok()) return AddError(data, at, s.message());
    data.objects.emplace_back(at, std::move(*o));
  }
}

// JSON lines: one object or relation per line; blank lines are skipped. `where` prefixes labels.
void ParseJsonLines(std::string_view text, const std::string& where, const AdminLimits& limits, ParsedData& data) {
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    Labelled at{where.empty() ? "line " + std::to_string(line_number) : where + ":" + std::to_string(line_number),
                line_number};
    // Most lines are plain relations, read without a JSON tree; the rest take nlohmann's.
    if (limits.max_json_depth >= 1) {
      if (auto relation = ScanRelation(line)) {
        if (Status s = CheckRelation("relation", *relation, limits); !s.ok()) {
          AddError(data, at, s.message());
        } else {
          data.relations.emplace_back(std::move(at), std::move(*relation));
        }
        continue;
      }
    }
    if (Status s = http::CheckJsonNesting(line, limits.max_json_depth); !s.ok()) {
      AddError(data, at, s.message());
      continue;
    }
    nlohmann::json item = nlohmann::json::parse(line, nullptr, false);
    if (item.is_discarded()) {
      AddError(data, at, "not valid JSON");
      continue;
    }
    ParseItem(item, at, limits, data);
  }
}

// {"objects": [...], "relations": [...]} as a data/*.json file holds it.
void ParseDataDocument(const nlohmann::json& doc, const std::string& where, const AdminLimits& limits,
                       ParsedData& data) {
  if (!doc.is_object()) return AddError(data, {where}, "must be {\"objects\": [...], \"relations\": [...]}");
  for (const auto& [key, value] : doc.items()) {
    if (key != "objects" && key != "relations") {
      AddError(data, {where}, key + ": unknown field (expected objects, relations)");
      continue;
    }
    if (!value.is_array()) {
      AddError(data, {where}, key + ": must be an array");
      continue;
    }
    for (size_t i = 0; i < value.size(); ++i) {
      Labelled at{where + (where.empty() ? "" : ": ") + key + "[" + std::to_string(i) + "]"};
      if (key == "relations" && value[i].is_object() && !value[i].contains("relation")) {
        AddError(data, at, "relation: required");
        continue;
      }
      if (key == "objects" && value[i].is_object() && value[i].contains("relation")) {
        AddError(data, at, "relation: unknown field in an object");
        continue;
      }
      ParseItem(value[i], at, limits, data);
    }
  }
}

// Checks every item against the manifest the write will leave in place, so a refusal can name
// the file and line of each bad item (the whole-snapshot check in ControlPlane::Write follows).
Status PrevalidateAgainst(const std::optional<directory::ManifestSource>& manifest, ParsedData& data) {
  auto builder = directory::DirectorySnapshot::Builder::Create(manifest);
  if (!builder.ok()) return builder.status();
  for (auto& [at, object] : data.objects) {
    if (Status s = builder->AddObject(object); !s.ok()) AddError(data, at, s.message());
  }
  for (auto& [at, relation] : data.relations) {
    if (Status s = builder->AddRelation(relation); !s.ok()) AddError(data, at, s.message());
  }
  return Status::Ok();
}

struct PushRequest {
  std::optional<std::vector<policy::SourceDocument>> policies;
  std::optional<directory::ManifestSource> manifest;
  ParsedData data;
  bool prune = false;
};

Result<PushRequest> ParsePush(const nlohmann::json& body, const AdminLimits& limits) {
  if (!body.is_object()) return Status::InvalidArgument("body: must be a JSON object");
  PushRequest push;
  for (const auto& [key, value] : body.items()) {
    if (key == "prune") {
      if (!value.is_boolean()) return Status::InvalidArgument("prune: must be true or false");
      push.prune = value.get<bool>();
    } else if (key == "policies") {
      if (!value.is_array()) return Status::InvalidArgument("policies: must be an array of {\"path\", \"text\"}");
      push.policies.emplace();
      std::unordered_set<std::string> seen;
      for (size_t i = 0; i < value.size(); ++i) {
        std::string field = "policies[" + std::to_string(i) + "]";
        const auto& p = value[i];
        if (!p.is_object() || !p.contains("path") || !p["path"].is_string() || !p.contains("text") ||
            !p["text"].is_string() || p.size() != 2) {
          return Status::InvalidArgument(field + ": must be {\"path\": string, \"text\": string}");
        }
        std::string path = p["path"].get<std::string>();
        WARDEN_RETURN_IF_ERROR(CheckPolicyPath(field + ".path", path, limits));
        if (!seen.insert(path).second) return Status::InvalidArgument(field + ".path: '" + path + "' appears twice");
        push.policies->push_back({path, p["text"].get<std::string>()});
      }
    } else if (key == "manifest") {
      if (value.is_null()) continue;
      if (!value.is_object() || !value.contains("text") || !value["text"].is_string()) {
        return Status::InvalidArgument("manifest: must be {\"format\": \"yaml\"|\"zed\", \"name\"?, \"text\"}");
      }
      directory::ManifestSource source;
      std::string format = value.value("format", std::string("yaml"));
      if (format != "yaml" && format != "zed") {
        return Status::InvalidArgument("manifest.format: '" + format + "' is not 'yaml' or 'zed'");
      }
      source.format = format == "zed" ? directory::ManifestSource::Format::kZed : directory::ManifestSource::Format::kYaml;
      source.name = value.value("name", std::string(format == "zed" ? "schema.zed" : "manifest.yaml"));
      source.text = value["text"].get<std::string>();
      push.manifest = std::move(source);
    } else if (key == "data") {
      if (!value.is_array()) return Status::InvalidArgument("data: must be an array of {\"path\", \"text\"}");
      for (size_t i = 0; i < value.size(); ++i) {
        const auto& f = value[i];
        std::string field = "data[" + std::to_string(i) + "]";
        if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("text") ||
            !f["text"].is_string()) {
          return Status::InvalidArgument(field + ": must be {\"path\": string, \"text\": string}");
        }
        std::string path = f["path"].get<std::string>();
        const std::string& text = f["text"].get_ref<const std::string&>();
        auto ends = [&](std::string_view s) { return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0; };
        if (ends(".jsonl")) {
          ParseJsonLines(text, path, limits, push.data);
        } else if (ends(".json")) {
          if (Status s = http::CheckJsonNesting(text, limits.max_json_depth); !s.ok()) {
            AddError(push.data, {path}, s.message());
            continue;
          }
          nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
          if (doc.is_discarded()) {
            AddError(push.data, {path}, "not valid JSON");
            continue;
          }
          ParseDataDocument(doc, path, limits, push.data);
        } else {
          return Status::InvalidArgument(field + ".path: '" + path + "' must end in .json or .jsonl");
        }
      }
    } else if (key == "objects" || key == "relations") {
      ParseDataDocument(nlohmann::json{{key, value}}, "", limits, push.data);
    } else {
      return Status::InvalidArgument(key + ": unknown field (expected policies, manifest, data, objects, relations, prune)");
    }
  }
  return push;
}

std::string ObjectKey(const std::string& type, const std::string& id) { return type + '\0' + id; }
std::string RelationKey(const directory::RelationTuple& r) {
  return r.object_type + '\0' + r.object_id + '\0' + r.relation + '\0' + r.subject_type + '\0' + r.subject_id + '\0' +
         r.subject_relation;
}

// The ops that make the current state what the push names (and, with prune, nothing else).
// Deletes come first and the manifest before the sets, so each op is valid where it stands.
Result<std::vector<DeltaOp>> PlanPush(const Snapshot& current, const PushRequest& push) {
  std::vector<DeltaOp> deletes, sets;
  const auto& dir = *current.directory;

  std::unordered_set<std::string> pushed_objects;
  for (const auto& [at, object] : push.data.objects) {
    pushed_objects.insert(ObjectKey(object.type, object.id));
    auto existing = dir.GetObject(object.type, object.id);
    if (existing.ok() && existing->display_name == object.display_name && existing->properties == object.properties) continue;
    sets.push_back(DeltaOp::SetObject(object));
  }
  if (push.prune) {
    std::string cursor;
    do {
      auto page = dir.ListObjects("", 10'000, cursor);
      if (!page.ok()) return page.status();
      for (const auto& o : page->objects) {
        if (!pushed_objects.count(ObjectKey(o.type, o.id))) deletes.push_back(DeltaOp::DeleteObject(o.type, o.id));
      }
      cursor = page->next_cursor;
    } while (!cursor.empty());
  }

  if (!push.data.relations.empty() || push.prune) {
    std::unordered_set<std::string> existing;
    existing.reserve(dir.relation_count());
    std::string cursor;
    do {
      auto page = dir.ListRelations({}, 10'000, cursor);
      if (!page.ok()) return page.status();
      for (const auto& r : page->relations) existing.insert(RelationKey(r));
      cursor = page->next_cursor;
    } while (!cursor.empty());
    std::unordered_set<std::string> pushed;
    for (const auto& [at, r] : push.data.relations) {
      std::string key = RelationKey(r);
      if (!pushed.insert(key).second) continue;
      if (!existing.count(key)) sets.push_back(DeltaOp::SetRelation(r));
    }
    if (push.prune) {
      std::string page_cursor;
      do {
        auto page = dir.ListRelations({}, 10'000, page_cursor);
        if (!page.ok()) return page.status();
        for (const auto& r : page->relations) {
          if (!pushed.count(RelationKey(r))) deletes.push_back(DeltaOp::DeleteRelation(r));
        }
        page_cursor = page->next_cursor;
      } while (!page_cursor.empty());
    }
  }

  std::vector<DeltaOp> ops = std::move(deletes);
  if (push.manifest) {
    const auto& now = dir.manifest_source();
    if (!now || now->text != push.manifest->text || now->format != push.manifest->format) {
      ops.push_back(DeltaOp::SetManifest(*push.manifest));
    }
  }
  for (auto& op : sets) ops.push_back(std::move(op));

  if (push.policies || push.prune) {
    static const std::vector<policy::SourceDocument> kNone;
    const auto& target = push.policies ? *push.policies : kNone;
    for (const auto& doc : *current.policy_sources) {
      bool named = std::any_of(target.begin(), target.end(), [&](const auto& t) { return t.path == doc.path; });
      if (!named && push.prune) ops.push_back(DeltaOp::DeletePolicy(doc.path));
    }
    for (const auto& doc : target) {
      auto it = std::find_if(current.policy_sources->begin(), current.policy_sources->end(),
                             [&](const auto& c) { return c.path == doc.path; });
      if (it == current.policy_sources->end() || it->text != doc.text) ops.push_back(DeltaOp::SetPolicy(doc.path, doc.text));
    }
  }
  return ops;
}

http::Response Refusal(const Status& status) {
  // Validation failures list one problem per line; keep them as a list too.
  if (status.code() != StatusCode::kInvalidArgument || status.message().find('\n') == std::string::npos) {
    return http::ErrorResponse(status);
  }
  std::vector<nlohmann::json> errors;
  std::string_view text = status.message();
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    start = end + 1;
    if (line.empty()) continue;
    errors.push_back({{"where", ""}, {"message", line}});
  }
  nlohmann::json body = {{"error", {{"code", "invalid_argument"}, {"message", status.message()}, {"errors", errors}}}};
  return http::JsonResponse(body, 400);
}

// The refusal naming every bad line of an import: those `data` holds already, and those that do
// not fit the current manifest. nullopt when there are none.
std::optional<http::Response> RefuseLines(const ControlPlane& cp, ParsedData& data) {
  Status status = PrevalidateAgainst(cp.current()->directory->manifest_source(), data);
  if (!status.ok()) return http::ErrorResponse(status);
  if (data.errors.empty()) return std::nullopt;
  std::stable_sort(data.errors.begin(), data.errors.end(), [](const auto& a, const auto& b) {
    return a.value("line", size_t{0}) < b.value("line", size_t{0});
  });
  return MultiErrorResponse(400, "invalid_argument", data.errors,
                            std::to_string(data.errors.size()) + " bad line(s); nothing was imported:");
}

// What a write's ops change, for its answer ("summary"): the counts wardenctl prints after a push.
nlohmann::json SummarizeOps(const Snapshot& current, const std::vector<DeltaOp>& ops) {
  size_t policies_added = 0, policies_changed = 0, policies_removed = 0;
  size_t objects_set = 0, objects_deleted = 0, relations_set = 0, relations_deleted = 0;
  bool manifest_changed = false;
  for (const auto& op : ops) {
    switch (op.kind) {
      case DeltaOp::Kind::kPolicySet: {
        bool existed = std::any_of(current.policy_sources->begin(), current.policy_sources->end(),
                                   [&](const auto& doc) { return doc.path == op.policy.path; });
        ++(existed ? policies_changed : policies_added);
        break;
      }
      case DeltaOp::Kind::kPolicyDelete: ++policies_removed; break;
      case DeltaOp::Kind::kObjectSet: ++objects_set; break;
      case DeltaOp::Kind::kObjectDelete: ++objects_deleted; break;
      case DeltaOp::Kind::kRelationSet: ++relations_set; break;
      case DeltaOp::Kind::kRelationDelete: ++relations_deleted; break;
      case DeltaOp::Kind::kManifestSet: manifest_changed = true; break;
    }
  }
  return {{"policies", {{"added", policies_added}, {"changed", policies_changed}, {"removed", policies_removed}}},
          {"manifest_changed", manifest_changed},
          {"objects", {{"set", objects_set}, {"deleted", objects_deleted}}},
          {"relations", {{"set", relations_set}, {"deleted", relations_deleted}}}};
}

}  // namespace

void AddBulkRoutes(http::Router& router, ControlPlane& cp, const AdminLimits& limits) {
  router.Add(Method::kPost, "/v1/push",
             Authed(cp, Scope::kWrite, limits.max_bulk_body, [&cp, limits](http::Request& request, const Caller& caller) {
               nlohmann::json json;
               if (auto error = http::ParseJsonBody(request, json)) return *error;
               auto push = ParsePush(json, limits);
               if (!push.ok()) return http::ErrorResponse(push.status());
               {
                 auto current = cp.current();
                 const auto& manifest = push->manifest ? push->manifest : current->directory->manifest_source();
                 Status status = PrevalidateAgainst(manifest, push->data);
                 if (!status.ok()) return Refusal(status.WithPrefix("manifest"));
               }
               if (!push->data.errors.empty()) {
                 return MultiErrorResponse(400, "invalid_argument", push->data.errors,
                                           std::to_string(push->data.errors.size()) + " bad data item(s); nothing was stored:");
               }
               nlohmann::json summary;
               auto outcome = cp.Write(
                   [&](const Snapshot& current) -> Result<std::vector<DeltaOp>> {
                     auto ops = PlanPush(current, *push);
                     if (ops.ok()) summary = SummarizeOps(current, *ops);
                     return ops;
                   },
                   caller.name);
               if (!outcome.ok()) return Refusal(outcome.status());
               spdlog::info("push by {}: {} ops at revision {}", caller.name, outcome->op_count, outcome->revision);
               auto response = WriteResponse(cp, *outcome);
               auto body = nlohmann::json::parse(response.body);
               body["summary"] = std::move(summary);
               return http::JsonResponse(body);
             }));

  // JSON lines, each an object or a relation, all committed as one revision or none.
  router.Add(Method::kPost, "/v1/import",
             Authed(cp, Scope::kWrite, limits.max_bulk_body, [&cp, limits](http::Request& request, const Caller& caller) {
               auto started = std::chrono::steady_clock::now();
               const std::string& text = request.body();
               size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
               if (lines > limits.max_import_lines + 1) {
                 return http::ErrorResponse(413, "resource_exhausted",
                                            "body: " + std::to_string(lines) + " lines is over the import limit of " +
                                                std::to_string(limits.max_import_lines));
               }
               spdlog::info("import by {}: {} bytes received, parsing", caller.name, text.size());
               ParsedData data;
               ParseJsonLines(text, "", limits, data);
               if (!data.errors.empty()) return *RefuseLines(cp, data);
               const size_t object_rows = data.objects.size(), relation_rows = data.relations.size();
               size_t rows = object_rows + relation_rows;
               if (rows == 0) return http::ErrorResponse(400, "invalid_argument", "body: no objects or relations");
               std::vector<DeltaOp> ops;
               ops.reserve(rows);
               for (auto& [at, o] : data.objects) ops.push_back(DeltaOp::SetObject(std::move(o)));
               for (auto& [at, r] : data.relations) ops.push_back(DeltaOp::SetRelation(std::move(r)));
               data = {};
               spdlog::info("import by {}: {} rows parsed, committing", caller.name, rows);
               // The write validates every row against the manifest; checking them here first, to
               // name lines, cost as much again (the manifest compiled anew each time). So the
               // lines are named only when the write refuses: parsed again and checked one by one.
               auto outcome = cp.Write(std::move(ops), caller.name);
               if (!outcome.ok()) {
                 if (outcome.status().code() == StatusCode::kInvalidArgument) {
                   ParseJsonLines(text, "", limits, data);
                   if (auto refusal = RefuseLines(cp, data)) return *refusal;
                 }
                 return Refusal(outcome.status());
               }
               cp.import_rows().Increment(rows);
               auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
               spdlog::info("import by {}: {} rows committed at revision {} in {:.2f}s", caller.name, rows,
                            outcome->revision, seconds);
               auto response = WriteResponse(cp, *outcome);
               auto body = nlohmann::json::parse(response.body);
               body["rows"] = rows;
               body["objects"] = object_rows;
               body["relations"] = relation_rows;
               return http::JsonResponse(body);
             }));
}

}  // namespace warden::control_plane
