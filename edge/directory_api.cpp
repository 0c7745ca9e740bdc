#include "edge/directory_api.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "common/directory/json_api.h"
#include "common/http/json.h"

namespace warden::edge {
namespace {

using nlohmann::json;
using JsonCall = Result<json> (*)(const directory::DirectorySnapshot&, const json&, const directory::CheckLimits&);

http::Response Answer(const Snapshot& snapshot, Result<json> result) {
  if (!result.ok()) return http::ErrorResponse(result.status());
  http::Response response = http::JsonResponse(*result);
  return EdgeContext::WithRevision(response, snapshot);
}

// A GET's query parameters as the JSON request the directory functions take; page_size becomes
// a number (or stays text, so the directory names it as malformed).
json QueryAsJson(const http::Request& request, std::initializer_list<const char*> names) {
  json body = json::object();
  for (const char* name : names) {
    auto value = request.query_param(name);
    if (!value) continue;
    if (std::string_view(name) == "page_size") {
      int64_t number = 0;
      auto [end, error] = std::from_chars(value->data(), value->data() + value->size(), number);
      if (error == std::errc() && end == value->data() + value->size()) {
        body[name] = number;
        continue;
      }
    }
    if (std::string_view(name) == "with_relations") {
      body[name] = *value == "true" || *value == "1";
      continue;
    }
    body[name] = *value;
  }
  return body;
}

// Lookups page by --max-page-size: a request without page_size (or with 0, "all") or with a larger
// one gets pages of that size and a next_cursor, so one answer stays bounded but the whole result
// is still reachable. A malformed page_size is left for the directory to name.
void CapPageSize(json& body, size_t max_page_size) {
  auto it = body.find("page_size");
  if (it == body.end() || it->is_null() || (it->is_number_unsigned() && (it->get<uint64_t>() == 0 ||
                                                                          it->get<uint64_t>() > max_page_size))) {
    body["page_size"] = max_page_size;
  }
}

http::Handler PostHandler(EdgeContext& context, JsonCall call, bool count_decision = false, bool paged = false) {
  return [&context, call, count_decision, paged](http::Request& request) {
    json body;
    if (auto error = http::ParseJsonBody(request, body)) return *error;
    if (!body.is_object()) return http::ErrorResponse(400, "invalid_argument", "request body must be a JSON object");
    if (paged) CapPageSize(body, context.limits.max_page_size);
    std::optional<http::Response> not_at_revision;
    const Snapshot* snapshot = context.SnapshotFor(request, 0, not_at_revision);
    if (snapshot == nullptr) return std::move(*not_at_revision);
    auto started = std::chrono::steady_clock::now();
    auto result = call(*snapshot->directory, body, context.limits.decision.graph);
    if (count_decision && result.ok()) {
      bool allowed = (*result)["check"] == true;
      context.CountDecision(EdgeContext::kDirectory, allowed);
      if (context.WantsLog(DecisionApi::kDirectory, allowed)) {
        auto text = [&body](const char* field) {
          return body.contains(field) && body[field].is_string() ? body[field].get<std::string>() : std::string();
        };
        DecisionEntry entry;
        entry.time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
        entry.revision = snapshot->revision;
        entry.api = DecisionApi::kDirectory;
        entry.request_id = std::string(request.header("X-Request-Id"));
        entry.subject_type = text("subject_type");
        entry.subject_id = text("subject_id");
        entry.action = !text("permission").empty() ? text("permission") : text("relation");
        entry.resource_type = text("object_type");
        entry.resource_id = text("object_id");
        entry.allowed = allowed;
        entry.latency_us = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                     std::chrono::steady_clock::now() - started).count());
        context.decision_log->Record(std::move(entry));
      }
    }
    return Answer(*snapshot, std::move(result));
  };
}

Result<json> Check(const directory::DirectorySnapshot& snapshot, const json& request,
                   const directory::CheckLimits& limits) {
  return directory::CheckJson(snapshot, request, limits);
}
Result<json> Lookup(const directory::DirectorySnapshot& snapshot, const json& request,
                    const directory::CheckLimits& limits) {
  return directory::LookupJson(snapshot, request, limits);
}
// Expansion and identity resolution walk no further than one userset tree or one index lookup.
Result<json> Expand(const directory::DirectorySnapshot& snapshot, const json& request, const directory::CheckLimits&) {
  return directory::ExpandJson(snapshot, request);
}
Result<json> ResolveIdentity(const directory::DirectorySnapshot& snapshot, const json& request,
                             const directory::CheckLimits&) {
  return directory::ResolveIdentityJson(snapshot, request);
}

}  // namespace

void AddDirectoryRoutes(http::Router& router, EdgeContext& context) {
  router.Add(http::Method::kPost, "/api/v3/directory/check", PostHandler(context, &Check, true));
  router.Add(http::Method::kPost, "/api/v3/directory/lookup", PostHandler(context, &Lookup, false, true));
  router.Add(http::Method::kPost, "/api/v3/directory/expand", PostHandler(context, &Expand));
  router.Add(http::Method::kPost, "/api/v3/directory/identity", PostHandler(context, &ResolveIdentity));

  router.Add(http::Method::kGet, "/api/v3/directory/object/{object_type}/{object_id}", [&context](http::Request& request) {
    std::optional<http::Response> not_at_revision;
    const Snapshot* snapshot = context.SnapshotFor(request, 0, not_at_revision);
    if (snapshot == nullptr) return std::move(*not_at_revision);
    json body = QueryAsJson(request, {"with_relations"});
    body["object_type"] = std::string(request.path_param("object_type"));
    body["object_id"] = std::string(request.path_param("object_id"));
    return Answer(*snapshot, directory::GetObjectJson(*snapshot->directory, body));
  });
  router.Add(http::Method::kGet, "/api/v3/directory/objects", [&context](http::Request& request) {
    std::optional<http::Response> not_at_revision;
    const Snapshot* snapshot = context.SnapshotFor(request, 0, not_at_revision);
    if (snapshot == nullptr) return std::move(*not_at_revision);
    return Answer(*snapshot, directory::GetObjectsJson(*snapshot->directory,
                                                       QueryAsJson(request, {"object_type", "page_size", "cursor"})));
  });
  router.Add(http::Method::kGet, "/api/v3/directory/relations", [&context](http::Request& request) {
    std::optional<http::Response> not_at_revision;
    const Snapshot* snapshot = context.SnapshotFor(request, 0, not_at_revision);
    if (snapshot == nullptr) return std::move(*not_at_revision);
    json body = QueryAsJson(request, {"object_type", "object_id", "relation", "subject_type", "subject_id",
                                      "subject_relation", "page_size", "cursor"});
    return Answer(*snapshot, directory::GetRelationsJson(*snapshot->directory, body));
  });
}

}  // namespace warden::edge
