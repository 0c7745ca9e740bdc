// The AuthZEN 1.0 Search APIs: subject, resource and action search with opaque page tokens.
//
// A search answers with exactly the entities for which an evaluation would say true, at the
// same snapshot:
//   - where a policy covers the resource type, the candidates are enumerated from the directory
//     (objects of the searched type; for actions, the literal actions the policies name for the
//     kind plus the manifest's relations and permissions of the type) and each is decided by
//     engine::Decide, exactly as /access/v1/evaluation would decide it;
//   - where the manifest decides the type, the directory's lookups (LookupSubjects,
//     LookupResources) answer, which equal its checks by construction.
// Results are ordered by id (by name for actions). A page token names the request it belongs to
// (a fingerprint of everything but the token) and the last id returned, so the next page resumes
// after it; a token that is malformed or belongs to another request is a 400 naming page.token.
// Unknown types and unknown subjects give empty results, as the certification profile requires.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "common/directory/lookup.h"
#include "common/http/json.h"
#include "edge/authzen_api.h"

namespace warden::edge {
namespace {

using nlohmann::json;

enum class SearchKind { kSubject, kResource, kAction };

const char* KindName(SearchKind kind) {
  switch (kind) {
    case SearchKind::kSubject: return "subject";
    case SearchKind::kResource: return "resource";
    case SearchKind::kAction: return "action";
  }
  return "";
}

struct SearchRequest {
  SearchKind kind = SearchKind::kSubject;
  engine::Entity subject;   // kSubject: id empty (the searched entity)
  std::string action;       // empty for kAction
  json action_properties;   // the action's properties, null when absent
  engine::Entity resource;  // kResource: id empty
  json context;
  bool explain = false;
  size_t limit = 0;
  std::string after;        // resume after this id (or action name); empty on the first page
  bool has_token = false;
  engine::DecisionLimits limits;  // the edge's, for every decision and walk the search makes
};

// 64-bit FNV-1a; stable across builds and processes, so tokens survive an edge restart.
uint64_t Fingerprint(const std::string& text) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string FingerprintOf(const SearchRequest& request) {
  json identity = {KindName(request.kind),
                   {request.subject.type, request.subject.id, request.subject.properties},
                   request.action,
                   {request.resource.type, request.resource.id, request.resource.properties},
                   request.context,
                   request.limit};
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(Fingerprint(identity.dump())));
  return hex;
}

std::string HexEncode(const std::string& text) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(text.size() * 2);
  for (unsigned char c : text) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Token: "w1" + 16 hex digits of the request's fingerprint + the last id, hex-encoded.
std::string MakeToken(const SearchRequest& request, const std::string& last) {
  return "w1" + FingerprintOf(request) + HexEncode(last);
}

Status ReadToken(const std::string& token, SearchRequest& request) {
  const std::string hint = "; pass back the page.next_token of the previous response unchanged";
  if (token.size() < 18 || token.compare(0, 2, "w1") != 0 || token.size() % 2 != 0) {
    return Status::InvalidArgument("page.token: malformed" + hint);
  }
  std::string last;
  for (size_t i = 18; i < token.size(); i += 2) {
    int high = HexDigit(token[i]), low = HexDigit(token[i + 1]);
    if (high < 0 || low < 0) return Status::InvalidArgument("page.token: malformed" + hint);
    last.push_back(static_cast<char>(high << 4 | low));
  }
  for (size_t i = 2; i < 18; ++i) {
    if (HexDigit(token[i]) < 0) return Status::InvalidArgument("page.token: malformed" + hint);
  }
  if (token.compare(2, 16, FingerprintOf(request)) != 0) {
    return Status::InvalidArgument(
        "page.token: belongs to a different search; subject, action, resource, context and page.limit must be "
        "those of the request that returned it");
  }
  request.after = std::move(last);
  request.has_token = true;
  return Status::Ok();
}

Result<SearchRequest> ParseSearch(SearchKind kind, const json& body, size_t max_page_size) {
  SearchRequest request;
  request.kind = kind;
  auto field = [&](const char* name) -> const json& {
    static const json kNull;
    auto it = body.find(name);
    return it == body.end() ? kNull : *it;
  };
  WARDEN_RETURN_IF_ERROR(wire::ReadAuthzenEntity(field("subject"), "subject", kind != SearchKind::kSubject, request.subject));
  if (kind != SearchKind::kAction) {
    WARDEN_RETURN_IF_ERROR(wire::ReadAuthzenAction(field("action"), "action", request.action, request.action_properties));
  }
  WARDEN_RETURN_IF_ERROR(
      wire::ReadAuthzenEntity(field("resource"), "resource", kind != SearchKind::kResource, request.resource));
  const json& context = field("context");
  if (!context.is_null() && !context.is_object()) return Status::InvalidArgument("context: must be an object");
  request.context = context;
  if (context.is_object()) {
    auto warden = context.find("warden");
    if (warden != context.end() && warden->is_object()) {
      auto explain = warden->find("explain");
      request.explain = explain != warden->end() && explain->is_boolean() && explain->get<bool>();
    }
  }

  request.limit = max_page_size;
  std::string token;
  const json& page = field("page");
  if (!page.is_null()) {
    if (!page.is_object()) return Status::InvalidArgument("page: must be an object");
    auto limit = page.find("limit");
    if (limit != page.end() && !limit->is_null()) {
      if (!limit->is_number_integer() || (limit->is_number_integer() && !limit->is_number_unsigned() &&
                                          limit->get<int64_t>() < 0)) {
        return Status::InvalidArgument("page.limit: must be a non-negative integer");
      }
      uint64_t wanted = limit->get<uint64_t>();
      // 0 asks for nothing in particular; more than the edge's bound is served in pages of it.
      if (wanted > 0) request.limit = std::min<uint64_t>(wanted, max_page_size);
    }
    auto value = page.find("token");
    if (value != page.end() && !value->is_null()) {
      if (!value->is_string()) return Status::InvalidArgument("page.token: must be a string");
      token = value->get<std::string>();
    }
  }
  if (!token.empty()) WARDEN_RETURN_IF_ERROR(ReadToken(token, request));
  return request;
}

// Every object id of `type` in the directory; empty for a type the manifest does not define.
std::vector<std::string> ObjectIds(const directory::DirectorySnapshot& directory, const std::string& type) {
  std::vector<std::string> ids;
  std::string cursor;
  do {
    auto page = directory.ListObjects(type, 10000, cursor);
    if (!page.ok()) return {};
    for (const auto& object : page->objects) ids.push_back(object.id);
    cursor = page->next_cursor;
  } while (!cursor.empty());
  return ids;
}

// The relations and permissions the manifest gives `type`, by name.
std::vector<std::string> ManifestMembers(const directory::DirectorySnapshot& directory, const std::string& type) {
  std::vector<std::string> names;
  const auto& model = directory.model();
  auto symbol = model.FindSymbol(type);
  if (!symbol) return names;
  const directory::TypeDef* def = model.Type(*symbol);
  if (def == nullptr) return names;
  for (const auto& member : def->members) names.emplace_back(model.Name(member.name));
  return names;
}

// What the search finds, in order, and where the next page starts.
struct Found {
  std::vector<std::string> keys;  // ids, or action names
  bool more = false;
};

// Decides each candidate in order (after the token's position) and keeps the allowed ones, up to
// the page limit; one more allowed candidate means there is a next page. A candidate whose
// evaluation fails for a reason of the request (an unknown subject, say) is not allowed; a
// failure of the engine itself (a graph limit) fails the search.
template <typename MakeInput>
Result<Found> DecideEach(const Snapshot& snapshot, std::vector<std::string> candidates, const SearchRequest& request,
                         MakeInput make_input) {
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  Found found;
  auto start = request.has_token ? std::upper_bound(candidates.begin(), candidates.end(), request.after)
                                 : candidates.begin();
  for (auto it = start; it != candidates.end(); ++it) {
    engine::DecisionInput input = make_input(*it);
    auto result = engine::Decide(snapshot, input, request.limits);
    if (!result.ok()) {
      StatusCode code = result.status().code();
      if (code == StatusCode::kInvalidArgument || code == StatusCode::kNotFound) continue;
      return result.status();
    }
    if (!result->allowed) continue;
    if (found.keys.size() == request.limit) {
      found.more = true;
      break;
    }
    found.keys.push_back(*it);
  }
  return found;
}

// Pages an already complete, sorted list the way DecideEach does.
Found PageOf(std::vector<std::string> all, const SearchRequest& request) {
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  Found found;
  auto start = request.has_token ? std::upper_bound(all.begin(), all.end(), request.after) : all.begin();
  for (auto it = start; it != all.end(); ++it) {
    if (found.keys.size() == request.limit) {
      found.more = true;
      break;
    }
    found.keys.push_back(*it);
  }
  return found;
}

bool IsUserType(const std::string& type) { return type == "user" || type == "identity"; }

engine::DecisionInput BaseInput(const SearchRequest& request) {
  engine::DecisionInput input;
  input.subject = request.subject;
  input.action = request.action;
  input.action_properties = request.action_properties;
  input.resource = request.resource;
  input.context = request.context;
  return input;
}

bool ManifestDefines(const directory::DirectorySnapshot& directory, const std::string& type) {
  auto symbol = directory.model().FindSymbol(type);
  return symbol && directory.model().Type(*symbol) != nullptr;
}

// Lookup errors that mean "nothing matches" (an unknown relation, a subject type the relation
// never names) rather than a failure of the engine.
Result<Found> LookupOutcome(const Result<directory::LookupResult>& looked, const SearchRequest& request) {
  if (!looked.ok()) {
    if (looked.status().code() == StatusCode::kInvalidArgument) return Found{};
    return looked.status();
  }
  return PageOf(looked->ids, request);
}

Result<Found> SearchSubjects(const Snapshot& snapshot, const SearchRequest& request) {
  const auto& directory = *snapshot.directory;
  if (snapshot.policies->CoversResourceKind(request.resource.type)) {
    return DecideEach(snapshot, ObjectIds(directory, request.subject.type), request, [&](const std::string& id) {
      engine::DecisionInput input = BaseInput(request);
      input.subject.id = id;
      return input;
    });
  }
  if (!ManifestDefines(directory, request.resource.type)) return Found{};
  directory::LookupSubjectsRequest lookup;
  lookup.object_type = request.resource.type;
  lookup.object_id = request.resource.id;
  if (request.resource.type == "user") {
    if (auto resolved = directory.ResolveUser(lookup.object_id)) lookup.object_id = *resolved;
  }
  lookup.permission = request.action;
  lookup.subject_type = request.subject.type;
  return LookupOutcome(directory::LookupSubjects(directory, lookup, request.limits.graph), request);
}

Result<Found> SearchResources(const Snapshot& snapshot, const SearchRequest& request) {
  const auto& directory = *snapshot.directory;
  auto subject_id = engine::ResolveSubjectId(snapshot, request.subject.type, request.subject.id);
  if (!subject_id && !request.subject.properties.is_object()) return Found{};  // an unknown subject may do nothing
  if (snapshot.policies->CoversResourceKind(request.resource.type)) {
    return DecideEach(snapshot, ObjectIds(directory, request.resource.type), request, [&](const std::string& id) {
      engine::DecisionInput input = BaseInput(request);
      input.resource.id = id;
      return input;
    });
  }
  if (!ManifestDefines(directory, request.resource.type) || !subject_id) return Found{};
  directory::LookupResourcesRequest lookup;
  lookup.subject_type = IsUserType(request.subject.type) ? "user" : request.subject.type;
  lookup.subject_id = *subject_id;
  lookup.permission = request.action;
  lookup.object_type = request.resource.type;
  return LookupOutcome(directory::LookupResources(directory, lookup, request.limits.graph), request);
}

Result<Found> SearchActions(const Snapshot& snapshot, const SearchRequest& request) {
  const auto& directory = *snapshot.directory;
  auto subject_id = engine::ResolveSubjectId(snapshot, request.subject.type, request.subject.id);
  if (!subject_id && !request.subject.properties.is_object()) return Found{};
  std::vector<std::string> candidates = ManifestMembers(directory, request.resource.type);
  if (snapshot.policies->CoversResourceKind(request.resource.type)) {
    for (auto& action : snapshot.policies->ActionsOf(request.resource.type)) candidates.push_back(std::move(action));
  }
  return DecideEach(snapshot, std::move(candidates), request, [&](const std::string& action) {
    engine::DecisionInput input = BaseInput(request);
    input.action = action;
    return input;
  });
}

http::Response Search(EdgeContext& context, SearchKind kind, http::Request& request) {
  json body;
  if (auto error = ReadAuthzenBody(request, body)) return FinishAuthzen(std::move(*error), request, nullptr);
  std::optional<http::Response> error;
  const Snapshot* snapshot = AuthzenSnapshot(context, request, body, error);
  if (snapshot == nullptr) return FinishAuthzen(std::move(*error), request, nullptr);
  auto search = ParseSearch(kind, body, context.limits.max_page_size);
  if (!search.ok()) return FinishAuthzen(http::ErrorResponse(search.status()), request, snapshot);
  search->limits = context.limits.decision;

  Result<Found> found = kind == SearchKind::kSubject    ? SearchSubjects(*snapshot, *search)
                        : kind == SearchKind::kResource ? SearchResources(*snapshot, *search)
                                                        : SearchActions(*snapshot, *search);
  if (!found.ok()) return FinishAuthzen(http::ErrorResponse(found.status()), request, snapshot);

  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const auto& key : found->keys) {
    if (kind == SearchKind::kAction) {
      results.push_back({{"name", key}});
    } else {
      const std::string& type = kind == SearchKind::kSubject ? search->subject.type : search->resource.type;
      results.push_back({{"type", type}, {"id", key}});
    }
  }
  // The spec recommends `page` first, so a PEP can read the count before the results.
  nlohmann::ordered_json answer;
  answer["page"] = {{"next_token", found->more ? MakeToken(*search, found->keys.back()) : ""},
                    {"count", found->keys.size()}};
  answer["context"] = {{"revision", snapshot->revision}};
  if (search->explain) {
    answer["context"]["reason_admin"] = {
        {"method", snapshot->policies->CoversResourceKind(search->resource.type)
                       ? "each candidate decided by the policies"
                       : "directory lookup over the manifest"}};
  }
  answer["results"] = std::move(results);
  http::Response response;
  response.body = answer.dump();
  return FinishAuthzen(std::move(response), request, snapshot);
}

}  // namespace

void AddAuthzenSearchRoutes(http::Router& router, EdgeContext& context) {
  router.Add(http::Method::kPost, "/access/v1/search/subject",
             [&context](http::Request& request) { return Search(context, SearchKind::kSubject, request); });
  router.Add(http::Method::kPost, "/access/v1/search/resource",
             [&context](http::Request& request) { return Search(context, SearchKind::kResource, request); });
  router.Add(http::Method::kPost, "/access/v1/search/action",
             [&context](http::Request& request) { return Search(context, SearchKind::kAction, request); });
}

}  // namespace warden::edge
