#include "control-plane/sync_api.h"

#include <map>

#include <nlohmann/json.hpp>

#include "common/http/gzip.h"
#include "control-plane/api_support.h"

namespace warden::control_plane {
namespace {

using http::Method;
using nlohmann::json;

// The pull endpoints serve edges (an edge key) and operators' tools (any admin token).
http::Handler EdgeOrReader(ControlPlane& cp, std::function<http::Response(http::Request&)> handler) {
  return [&cp, handler = std::move(handler)](http::Request& request) -> http::Response {
    std::string_view value = request.header("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (value.substr(0, kBearer.size()) != kBearer) {
      return http::ErrorResponse(401, "unauthenticated", "Authorization: an edge key or admin token is required")
          .with_header("WWW-Authenticate", "Bearer realm=\"warden\"");
    }
    std::string_view secret = value.substr(kBearer.size());
    if (!cp.AuthenticateKey(secret).ok() && !cp.Authenticate(secret).ok()) {
      return http::ErrorResponse(401, "unauthenticated", "Authorization: invalid or revoked key or token")
          .with_header("WWW-Authenticate", "Bearer realm=\"warden\", error=\"invalid_token\"");
    }
    return handler(request);
  };
}

// Gzipped bodies of the latest snapshot, so edges bootstrapping together compress it once.
struct GzipCache {
  std::mutex mutex;
  std::shared_ptr<const ChunkedSnapshot> source;
  std::shared_ptr<const std::string> gzipped;
};

Result<std::chrono::milliseconds> ParseWait(const http::Request& request) {
  auto wait = request.query_param("wait");
  if (!wait) return std::chrono::milliseconds(0);
  std::string text = *wait;
  int64_t scale = 1000;  // a bare number is seconds
  if (text.size() > 2 && text.substr(text.size() - 2) == "ms") {
    scale = 1;
    text.resize(text.size() - 2);
  } else if (!text.empty() && text.back() == 's') {
    text.pop_back();
  }
  if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("wait: must be a duration such as 30s or 500ms");
  }
  int64_t ms = std::stoll(text) * scale;
  if (ms > 60'000) return Status::InvalidArgument("wait: at most 60s");
  return std::chrono::milliseconds(ms);
}

}  // namespace

void AddSyncRoutes(http::Router& router, ControlPlane& cp, SyncHub& hub, DecisionStore* decisions) {
  router.AddUpgrade("/v1/sync", [&hub](http::Request& request) { return hub.Upgrade(request); });

  auto gzip_cache = std::make_shared<GzipCache>();
  router.Add(Method::kGet, "/v1/snapshot", EdgeOrReader(cp, [&hub, gzip_cache](http::Request& request) {
               auto chunked = hub.CurrentSnapshot();
               const auto& snapshot = *chunked->snapshot;
               std::string etag = "\"" + snapshot.store_id + ":" + std::to_string(snapshot.revision) + "\"";
               http::Response response;
               response.with_header("ETag", etag)
                   .with_header("Warden-Store-Id", snapshot.store_id)
                   .with_header("Warden-Revision", std::to_string(snapshot.revision))
                   .with_header("Warden-Snapshot-Sha256", snapshot.sha256)
                   .with_header("Vary", "Accept-Encoding");
               if (request.header("If-None-Match") == etag) {
                 response.status = 304;
                 return response;
               }
               response.content_type = "application/x-ndjson";
               if (http::AcceptsGzip(request.header("Accept-Encoding"))) {
                 std::shared_ptr<const std::string> gzipped;
                 {
                   std::lock_guard lock(gzip_cache->mutex);
                   if (gzip_cache->source != chunked) {
                     gzip_cache->gzipped = std::make_shared<const std::string>(http::Gzip(snapshot.body));
                     gzip_cache->source = chunked;
                   }
                   gzipped = gzip_cache->gzipped;
                 }
                 response.body = *gzipped;
                 response.with_header("Content-Encoding", "gzip");
               } else {
                 response.body = snapshot.body;
               }
               return response;
             }));

  router.Add(Method::kGet, "/v1/changes", EdgeOrReader(cp, [&cp, &hub](http::Request& request) {
               auto since = QueryUint(request, request.query_param("since") ? "since" : "after", 0, 0, UINT64_MAX);
               if (!since.ok()) return http::ErrorResponse(since.status());
               auto limit = QueryUint(request, "limit", 100, 1, 10'000);
               if (!limit.ok()) return http::ErrorResponse(limit.status());
               auto wait = ParseWait(request);
               if (!wait.ok()) return http::ErrorResponse(wait.status());
               // Nothing new yet: the server holds the request, without a thread, until a commit
               // (or the shutdown) wakes it or the wait ends, then asks again with may_wait() false.
               if (wait->count() > 0 && request.may_wait() && !hub.LongPollMayAnswer(*since)) {
                 return http::Response::Later([&hub, after = *since] { return hub.LongPollMayAnswer(after); },
                                              std::chrono::steady_clock::now() + *wait);
               }
               auto changes = cp.store().Changes(*since, *limit);
               if (!changes.ok()) {
                 if (changes.status().code() == StatusCode::kOutOfRange) {
                   http::Response gone = http::ErrorResponse(410, "compacted", changes.status().message());
                   json body = json::parse(gone.body);
                   body["oldest"] = cp.store().compacted_through() + 1;
                   gone.body = body.dump();
                   return gone;
                 }
                 if (changes.status().code() != StatusCode::kUnavailable) {
                   // A change log that cannot be read (a damaged page): the snapshot, built from
                   // memory, still can, and a pull edge fetches it on a 410.
                   return http::ErrorResponse(410, "unreadable",
                                              "the change log cannot be read (" + changes.status().message() +
                                                  "); fetch /v1/snapshot");
                 }
                 return http::ErrorResponse(changes.status());
               }
               // The stored ops are spliced in as they are: they are already the wire's JSON.
               std::string list = "[";
               for (const auto& c : *changes) {
                 if (list.size() > 1) list += ',';
                 std::string head = json{{"revision", c.revision}, {"author", c.author}, {"time", Rfc3339(c.created_at)}}.dump();
                 head.pop_back();
                 list += head + ",\"ops\":" + c.ops_json + "}";
               }
               list += "]";
               http::Response response;
               std::string tail = json{{"revision", cp.current()->revision}, {"store_id", cp.store_id()}}.dump();
               response.body = "{\"changes\":" + list + "," + tail.substr(1);
               return response;
             }));

  router.Add(Method::kGet, "/v1/edges", Authed(cp, Scope::kRead, 0, [&cp, &hub, decisions](http::Request&, const Caller&) {
               auto stored = cp.store().Edges();
               if (!stored.ok()) return http::ErrorResponse(stored.status());
               std::unordered_map<std::string, DecisionStore::Drops> drops;
               if (decisions) {
                 Status read = decisions->DropsByInstance(drops);
                 if (!read.ok()) return http::ErrorResponse(read);
               }
               auto keys = cp.store().ApiKeys();
               if (!keys.ok()) return http::ErrorResponse(keys.status());
               std::map<std::string, std::string> key_names;
               for (const auto& k : *keys) key_names[k.id] = k.name;
               std::map<std::string, LiveEdge> live;
               for (auto& e : hub.LiveEdges()) live[e.instance_id] = std::move(e);
               uint64_t latest = cp.current()->revision;
               json list = json::array();
               auto add = [&](const LiveEdge& e) {
                 auto name = key_names.find(e.key_id);
                 json row = {{"instance", e.instance_id},
                             {"key_id", e.key_id},
                             {"key", name == key_names.end() ? "(revoked)" : name->second},
                             {"address", e.address},
                             {"version", e.build},
                             {"revision", e.revision},
                             {"lag", latest > e.revision ? latest - e.revision : 0},
                             {"state", e.state},
                             {"last_seen", Rfc3339(e.last_seen)}};
                 if (!e.error.empty()) row["error"] = e.error;
                 if (decisions) {
                   auto lost = drops.find(e.instance_id);
                   DecisionStore::Drops counts = lost == drops.end() ? DecisionStore::Drops{} : lost->second;
                   row["decision_log"] = {{"dropped", counts.dropped}, {"damaged", counts.damaged}};
                 }
                 list.push_back(std::move(row));
               };
               for (const auto& e : *stored) {
                 auto it = live.find(e.instance_id);
                 if (it != live.end()) {
                   add(it->second);
                   live.erase(it);
                   continue;
                 }
                 LiveEdge row;
                 row.instance_id = e.instance_id;
                 row.key_id = e.key_id;
                 row.address = e.address;
                 row.build = e.version;
                 row.revision = e.revision;
                 row.state = e.state == "connected" ? "disconnected" : e.state;  // no live session now
                 row.last_seen = e.last_seen;
                 add(row);
               }
               for (const auto& [id, e] : live) add(e);
               return http::JsonResponse({{"edges", list}, {"revision", latest}});
             }));
}

}  // namespace warden::control_plane
