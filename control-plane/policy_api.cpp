// /v1/policies, /v1/policy-sets and /v1/rollback: the current policy files and their history.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "control-plane/admin_api.h"

namespace warden::control_plane {
namespace {

using http::Method;
using protocol::DeltaOp;

const policy::SourceDocument* FindPolicy(const Snapshot& snapshot, std::string_view path) {
  for (const auto& doc : *snapshot.policy_sources) {
    if (doc.path == path) return &doc;
  }
  return nullptr;
}

// The ops that turn the current policy files into `target`.
std::vector<DeltaOp> PolicyDiff(const std::vector<policy::SourceDocument>& current,
                                const std::vector<policy::SourceDocument>& target) {
  std::vector<DeltaOp> ops;
  for (const auto& doc : current) {
    bool kept = std::any_of(target.begin(), target.end(), [&](const auto& t) { return t.path == doc.path; });
    if (!kept) ops.push_back(DeltaOp::DeletePolicy(doc.path));
  }
  for (const auto& doc : target) {
    auto it = std::find_if(current.begin(), current.end(), [&](const auto& c) { return c.path == doc.path; });
    if (it == current.end() || it->text != doc.text) ops.push_back(DeltaOp::SetPolicy(doc.path, doc.text));
  }
  return ops;
}

}  // namespace

void AddPolicyRoutes(http::Router& router, ControlPlane& cp, const AdminLimits& limits) {
  const size_t body = limits.max_write_body;

  // Paged by path: `cursor` is the last path of the previous page.
  router.Add(Method::kGet, "/v1/policies", Authed(cp, Scope::kRead, 0, [&cp](http::Request& request, const Caller&) {
               auto size = QueryUint(request, "page_size", 100, 1, 10'000);
               if (!size.ok()) return http::ErrorResponse(size.status());
               std::string cursor = request.query_param("cursor").value_or("");
               auto snapshot = cp.current();
               std::vector<const policy::SourceDocument*> docs;
               for (const auto& doc : *snapshot->policy_sources) docs.push_back(&doc);
               std::sort(docs.begin(), docs.end(), [](auto* a, auto* b) { return a->path < b->path; });
               nlohmann::json list = nlohmann::json::array();
               std::string next;
               for (const auto* doc : docs) {
                 if (!cursor.empty() && doc->path <= cursor) continue;
                 if (list.size() == *size) {
                   next = list.back()["path"].get<std::string>();
                   break;
                 }
                 list.push_back({{"path", doc->path}, {"sha256", protocol::Sha256Hex(doc->text)}, {"bytes", doc->text.size()}});
               }
               return http::JsonResponse({{"policies", list}, {"next_cursor", next}, {"revision", snapshot->revision}});
             }));

  router.Add(Method::kGet, "/v1/policies/{path...}", Authed(cp, Scope::kRead, 0, [&cp](http::Request& request, const Caller&) {
               auto snapshot = cp.current();
               const auto* doc = FindPolicy(*snapshot, request.path_param("path"));
               if (!doc) {
                 return http::ErrorResponse(404, "not_found",
                                            "path: no policy file '" + std::string(request.path_param("path")) + "'");
               }
               return http::JsonResponse({{"path", doc->path},
                                          {"text", doc->text},
                                          {"sha256", protocol::Sha256Hex(doc->text)},
                                          {"revision", snapshot->revision}});
             }));

  // Body: {"text": "..."} (the YAML or JSON policy document).
  router.Add(Method::kPut, "/v1/policies/{path...}",
             Authed(cp, Scope::kWrite, body, [&cp, limits](http::Request& request, const Caller& caller) {
               std::string path(request.path_param("path"));
               if (Status s = CheckPolicyPath("path", path, limits); !s.ok()) return http::ErrorResponse(s);
               nlohmann::json json;
               if (auto error = http::ParseJsonBody(request, json)) return *error;
               if (!json.is_object() || !json.contains("text") || !json["text"].is_string()) {
                 return http::ErrorResponse(400, "invalid_argument", "text: required, a string holding the policy document");
               }
               for (const auto& [key, value] : json.items()) {
                 if (key != "text") return http::ErrorResponse(400, "invalid_argument", key + ": unknown field (expected text)");
               }
               std::string text = json["text"].get<std::string>();
               auto outcome = cp.Write(
                   [&](const Snapshot& current) -> Result<std::vector<DeltaOp>> {
                     const auto* doc = FindPolicy(current, path);
                     if (doc && doc->text == text) return std::vector<DeltaOp>{};
                     return std::vector<DeltaOp>{DeltaOp::SetPolicy(path, text)};
                   },
                   caller.name);
               if (!outcome.ok()) return http::ErrorResponse(outcome.status());
               return WriteResponse(cp, *outcome);
             }));

  router.Add(Method::kDelete, "/v1/policies/{path...}",
             Authed(cp, Scope::kWrite, body, [&cp](http::Request& request, const Caller& caller) {
               std::string path(request.path_param("path"));
               auto outcome = cp.Write(
                   [&](const Snapshot& current) -> Result<std::vector<DeltaOp>> {
                     if (!FindPolicy(current, path)) return Status::NotFound("path: no policy file '" + path + "'");
                     return std::vector<DeltaOp>{DeltaOp::DeletePolicy(path)};
                   },
                   caller.name);
               if (!outcome.ok()) return http::ErrorResponse(outcome.status());
               return WriteResponse(cp, *outcome);
             }));

  router.Add(Method::kGet, "/v1/policy-sets", Authed(cp, Scope::kRead, 0, [&cp](http::Request&, const Caller&) {
               auto sets = cp.store().PolicySets();
               if (!sets.ok()) return http::ErrorResponse(sets.status());
               nlohmann::json list = nlohmann::json::array();
               for (const auto& s : *sets) {
                 list.push_back({{"revision", s.revision},
                                 {"sha256", s.sha256},
                                 {"author", s.author},
                                 {"time", Rfc3339(s.created_at)},
                                 {"tags", s.tags},
                                 {"files", s.file_count}});
               }
               return http::JsonResponse({{"policy_sets", list}});
             }));

  router.Add(Method::kGet, "/v1/policy-sets/{rev}", Authed(cp, Scope::kRead, 0, [&cp](http::Request& request, const Caller&) {
               uint64_t revision = 0;
               std::string text(request.path_param("rev"));
               if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 19) {
                 return http::ErrorResponse(400, "invalid_argument", "rev: '" + text + "' is not a revision number");
               }
               revision = std::stoull(text);
               auto files = cp.store().PolicySetFiles(revision);
               if (!files.ok()) return http::ErrorResponse(files.status());
               nlohmann::json list = nlohmann::json::array();
               for (const auto& f : *files) {
                 list.push_back({{"path", f.path}, {"text", f.text}, {"sha256", protocol::Sha256Hex(f.text)}});
               }
               return http::JsonResponse({{"revision", revision}, {"files", list}});
             }));

  // Body: {"tag": "v1.2"}. A tag names one set; tagging another set moves it.
  router.Add(Method::kPost, "/v1/policy-sets/{rev}/tags",
             Authed(cp, Scope::kWrite, body, [&cp, limits](http::Request& request, const Caller&) {
               std::string text(request.path_param("rev"));
               if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 19) {
                 return http::ErrorResponse(400, "invalid_argument", "rev: '" + text + "' is not a revision number");
               }
               nlohmann::json json;
               if (auto error = http::ParseJsonBody(request, json)) return *error;
               if (!json.is_object() || !json.contains("tag") || !json["tag"].is_string()) {
                 return http::ErrorResponse(400, "invalid_argument", "tag: required, a string");
               }
               std::string tag = json["tag"].get<std::string>();
               if (Status s = CheckName("tag", tag, limits); !s.ok()) return http::ErrorResponse(s);
               if (tag.find_first_not_of("0123456789") == std::string::npos) {
                 return http::ErrorResponse(400, "invalid_argument", "tag: must not be all digits (it would read as a revision)");
               }
               uint64_t revision = std::stoull(text);
               Status status = cp.store().TagPolicySet(revision, tag);
               if (!status.ok()) return http::ErrorResponse(status);
               return http::JsonResponse({{"revision", revision}, {"tag", tag}});
             }));

  // Body: {"tag": "v1"} or {"revision": 12}: makes the policy files what they were in that set,
  // as a new revision.
  router.Add(Method::kPost, "/v1/rollback",
             Authed(cp, Scope::kWrite, body, [&cp](http::Request& request, const Caller& caller) {
               nlohmann::json json;
               if (auto error = http::ParseJsonBody(request, json)) return *error;
               if (!json.is_object() || json.contains("tag") == json.contains("revision") || json.size() != 1) {
                 return http::ErrorResponse(400, "invalid_argument", "body: give exactly one of \"tag\" or \"revision\"");
               }
               uint64_t target = 0;
               if (json.contains("tag")) {
                 if (!json["tag"].is_string()) return http::ErrorResponse(400, "invalid_argument", "tag: must be a string");
                 auto rev = cp.store().RevisionOfTag(json["tag"].get<std::string>());
                 if (!rev.ok()) return http::ErrorResponse(rev.status());
                 target = *rev;
               } else {
                 if (!json["revision"].is_number_unsigned()) {
                   return http::ErrorResponse(400, "invalid_argument", "revision: must be a positive whole number");
                 }
                 target = json["revision"].get<uint64_t>();
               }
               auto files = cp.store().PolicySetFiles(target);
               if (!files.ok()) return http::ErrorResponse(files.status().WithPrefix("revision"));
               auto outcome = cp.Write(
                   [&](const Snapshot& current) -> Result<std::vector<DeltaOp>> {
                     return PolicyDiff(*current.policy_sources, *files);
                   },
                   "rollback to " + std::to_string(target) + " by " + caller.name);
               if (!outcome.ok()) return http::ErrorResponse(outcome.status());
               auto response = WriteResponse(cp, *outcome);
               return response;
             }));
}

}  // namespace warden::control_plane
