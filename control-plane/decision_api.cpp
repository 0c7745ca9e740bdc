#include "control-plane/decision_api.h"

#include <atomic>
#include <cstdlib>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/util/time_format.h"
#include "control-plane/api_support.h"

namespace warden::control_plane {
namespace {

using http::Method;
using nlohmann::json;


// A time bound: RFC 3339, or unix seconds.
Result<int64_t> TimeParam(const http::Request& request, const char* name, int64_t fallback) {
  auto value = request.query_param(name);
  if (!value || value->empty()) return fallback;
  if (value->find_first_not_of("0123456789") == std::string::npos && value->size() <= 12) {
    return static_cast<int64_t>(std::stoll(*value)) * 1'000'000'000;
  }
  auto parsed = ParseRfc3339Nanos(*value);
  if (!parsed.ok()) return Status::InvalidArgument(std::string(name) + ": " + parsed.status().message());
  return parsed;
}

Result<DecisionQuery> QueryFrom(const http::Request& request, size_t default_limit, size_t max_limit) {
  DecisionQuery query;
  auto from = TimeParam(request, "from", 0);
  if (!from.ok()) return from.status();
  auto to = TimeParam(request, "to", std::numeric_limits<int64_t>::max());
  if (!to.ok()) return to.status();
  query.from_ns = *from;
  query.to_ns = *to;
  query.edge = request.query_param("edge").value_or("");
  query.subject = request.query_param("subject").value_or("");
  query.resource = request.query_param("resource").value_or("");
  query.action = request.query_param("action").value_or("");
  if (auto decision = request.query_param("decision")) {
    if (*decision == "allow") {
      query.allowed = true;
    } else if (*decision == "deny") {
      query.allowed = false;
    } else if (!decision->empty()) {
      return Status::InvalidArgument("decision: must be allow or deny");
    }
  }
  auto order = request.query_param("order").value_or("desc");
  if (order != "desc" && order != "asc") return Status::InvalidArgument("order: must be desc or asc");
  query.ascending = order == "asc";
  auto limit = QueryUint(request, "limit", default_limit, 1, max_limit);
  if (!limit.ok()) return limit.status();
  query.limit = *limit;
  query.cursor = request.query_param("cursor").value_or("");
  return query;
}

}  // namespace

DecisionIngest::DecisionIngest(DecisionStore& store, DecisionLogLimits limits, metrics::Registry& registry)
    : store_(store), limits_(limits) {
  ingested_ = &registry.AddCounter("warden_cp_decision_log_entries_total", "Decision-log entries stored");
  duplicates_ = &registry.AddCounter("warden_cp_decision_log_duplicates_total",
                                     "Decision-log entries received again and ignored");
  dropped_ = &registry.AddCounter("warden_cp_decision_log_dropped_reported_total",
                                  "Entries edges reported dropping at a bound");
  registry.AddCallbackGauge("warden_cp_decision_log_rows", "Decision-log entries held", {},
                            [&store] { return static_cast<double>(store.count()); });
  // Test hook (never set in production): the first N acknowledgements are lost after the batch
  // committed, as if the connection broke, so a test can prove the resent batch is stored once.
  if (const char* hook = std::getenv("WARDEN_TEST_DROP_DECISION_LOG_ACKS")) acks_to_drop_.store(std::atoi(hook));
}

Result<json> DecisionIngest::Ingest(const std::string& key_id, const json& body) {
  std::string key_group = key_id;
  if (key_group_of_) {
    auto group = key_group_of_(key_id);
    if (!group.ok()) return Status::Unauthenticated("the key that sent this batch was revoked");
    key_group = *group;
  }
  return Ingest(key_id, key_group, body);
}

Result<json> DecisionIngest::Ingest(const std::string& key_id, const std::string& key_group, const json& body) {
  if (!body.is_object()) return Status::InvalidArgument("body: must be a JSON object");
  auto instance = body.find("instance_id");
  if (instance == body.end() || !instance->is_string() || instance->get<std::string>().empty() ||
      instance->get<std::string>().size() > 64) {
    return Status::InvalidArgument("instance_id: required, 1 to 64 characters");
  }
  auto entries = body.find("entries");
  if (entries == body.end() || !entries->is_array()) return Status::InvalidArgument("entries: required, an array");
  if (entries->size() > limits_.max_batch_entries) {
    return Status::ResourceExhausted("entries: " + std::to_string(entries->size()) + " exceed the limit of " +
                                     std::to_string(limits_.max_batch_entries));
  }
  DecisionStore::BatchSource source{instance->get_ref<const std::string&>(), key_id, key_group};
  for (auto [field, value] : {std::pair{"dropped", &source.dropped}, std::pair{"damaged", &source.damaged}}) {
    auto it = body.find(field);
    if (it == body.end() || it->is_null()) continue;
    if (!it->is_number_unsigned()) return Status::InvalidArgument(std::string(field) + ": a non-negative integer");
    *value = it->get<uint64_t>();
  }
  auto stored = store_.Ingest(source, *entries);
  if (!stored.ok()) return stored.status();
  return Stored(*stored, source);
}

Result<json> DecisionIngest::Ingest(const std::string& key_id, const std::string& key_group,
                                    const DecisionBatch& batch) {
  DecisionStore::BatchSource source{batch.instance_id, key_id, key_group, batch.dropped, batch.damaged};
  auto stored = store_.IngestRows(source, batch.rows);
  if (!stored.ok()) return stored.status();
  return Stored(*stored, source);
}

Result<json> DecisionIngest::Stored(const DecisionStore::IngestResult& stored,
                                    const DecisionStore::BatchSource& source) {
  const uint64_t reported_drops = source.dropped;
  const std::string_view instance_id = source.instance_id;
  ingested_->Increment(stored.stored);
  duplicates_->Increment(stored.duplicates);
  dropped_->Increment(reported_drops);
  if (reported_drops > 0) {
    spdlog::warn("decision log: edge {} reports {} entries dropped at a bound", instance_id, reported_drops);
  }
  if (source.damaged > 0) {
    spdlog::error("decision log: edge {} lost {} entries to a damaged spool (counted in its drops)", instance_id,
                  source.damaged);
  }
  // Retention runs at most once a minute, on the ingest path that makes it necessary.
  int64_t now = UnixNanosNow();
  int64_t last = last_retention_ns_.load();
  if (now - last > 60'000'000'000 && last_retention_ns_.compare_exchange_strong(last, now)) {
    auto deleted = store_.EnforceRetention(
        std::chrono::duration_cast<std::chrono::nanoseconds>(limits_.retain).count(), limits_.max_rows);
    if (deleted.ok() && *deleted > 0) spdlog::info("decision log: retention deleted {} entries", *deleted);
  }
  if (acks_to_drop_.load() > 0 && acks_to_drop_.fetch_sub(1) > 0) {
    spdlog::warn("decision log: dropping the acknowledgement of a committed batch (test hook)");
    return Status::Unavailable("acknowledgement dropped (test hook)");
  }
  return json{{"stored", stored.stored}, {"duplicates", stored.duplicates}, {"through", stored.through}};
}

const char* DecisionRefusalCode(const Status& status) {
  switch (status.code()) {
    case StatusCode::kResourceExhausted: return "too_large";
    case StatusCode::kInvalidArgument: return "invalid";
    case StatusCode::kPermissionDenied: return "forbidden";
    case StatusCode::kUnauthenticated: return "unauthenticated";
    default: return "unavailable";
  }
}

void AddDecisionIngestRoute(http::Router& router, ControlPlane& cp, DecisionIngest& ingest) {
  router.Add(Method::kPost, "/v1/decision-logs", [&cp, &ingest](http::Request& request) -> http::Response {
    std::string_view authorization = request.header("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.substr(0, kBearer.size()) != kBearer) {
      return http::ErrorResponse(401, "unauthenticated", "Authorization: an edge key is required");
    }
    auto key = cp.AuthenticateKey(authorization.substr(kBearer.size()));
    if (!key.ok()) return http::ErrorResponse(401, "unauthenticated", "Authorization: invalid or revoked edge key");
    if (request.body().size() > ingest.limits().max_batch_body) {
      return http::ErrorResponse(413, "payload_too_large", "a decision-log batch may be at most " +
                                                               std::to_string(ingest.limits().max_batch_body) + " bytes");
    }
    // Read straight from the text when it is a well-formed batch (the edge's always are); anything
    // else is parsed as a tree, which words the error.
    Result<json> answer = Status::Internal("unset");
    if (auto batch = ReadDecisionBatch(request.body(), request.max_json_depth(), ingest.limits().max_batch_entries)) {
      answer = ingest.Ingest(key->id, key->name, *batch);
    } else {
      json body;
      if (auto error = http::ParseJsonBody(request, body)) return *error;
      answer = ingest.Ingest(key->id, key->name, body);
    }
    if (!answer.ok()) {
      if (answer.status().code() == StatusCode::kResourceExhausted) {
        return http::ErrorResponse(413, "batch_too_large", answer.status().message());
      }
      return http::ErrorResponse(answer.status());
    }
    return http::JsonResponse(*answer);
  });
}

void AddDecisionRoutes(http::Router& router, ControlPlane& cp, DecisionStore& store, DecisionIngest& ingest) {
  AddDecisionIngestRoute(router, cp, ingest);
  router.Add(Method::kGet, "/v1/decisions", Authed(cp, Scope::kRead, 0, [&store](http::Request& request, const Caller&) {
               auto query = QueryFrom(request, 100, 1000);
               if (!query.ok()) return http::ErrorResponse(query.status());
               auto page = store.Query(*query);
               if (!page.ok()) return http::ErrorResponse(page.status());
               json out = {{"decisions", page->entries}};
               if (!page->next_cursor.empty()) out["next_cursor"] = page->next_cursor;
               return http::JsonResponse(out);
             }));

  router.Add(Method::kGet, "/v1/decisions/export",
             Authed(cp, Scope::kRead, 0, [&store](http::Request& request, const Caller&) {
               auto query = QueryFrom(request, 100'000, 1'000'000);
               if (!query.ok()) return http::ErrorResponse(query.status());
               auto page = store.Query(*query);
               if (!page.ok()) return http::ErrorResponse(page.status());
               http::Response response;
               response.content_type = "application/x-ndjson";
               for (const auto& entry : page->entries) {
                 response.body += entry.dump();
                 response.body += '\n';
               }
               if (!page->next_cursor.empty()) response.with_header("Warden-Next-Cursor", page->next_cursor);
               return response;
             }));
}

}  // namespace warden::control_plane
