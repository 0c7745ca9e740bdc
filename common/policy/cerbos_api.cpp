#include "common/policy/cerbos_api.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string_view>
#include <unordered_set>

#include "common/util/json_text.h"

namespace warden::policy {

const char* EffectName(Effect effect) { return effect == Effect::kAllow ? "EFFECT_ALLOW" : "EFFECT_DENY"; }

namespace {

Status Bad(const std::string& field, const std::string& reason) {
  return Status::InvalidArgument(field + ": " + reason);
}

// A field of a Cerbos request message: its JSON name, and its proto name where that differs.
// Cerbos's gateway reads JSON with protojson and DiscardUnknown off, so it takes either spelling
// and refuses any other key; so does Warden, or a misspelt "attrs" would decide as if no
// attributes were given.
struct Field {
  const char* json_name;
  const char* proto_name = nullptr;
};
using Fields = std::initializer_list<Field>;

constexpr Fields kCheckFields = {{"requestId", "request_id"}, {"principal"}, {"resources"}, {"auxData", "aux_data"},
                                 {"includeMeta", "include_meta"}};
constexpr Fields kPlanFields = {{"requestId", "request_id"}, {"action"}, {"actions"}, {"principal"}, {"resource"},
                                {"auxData", "aux_data"}, {"includeMeta", "include_meta"}};
constexpr Fields kPrincipalFields = {{"id"}, {"policyVersion", "policy_version"}, {"roles"}, {"attr"}, {"scope"}};
constexpr Fields kEntryFields = {{"actions"}, {"resource"}};
constexpr Fields kResourceFields = {{"kind"}, {"policyVersion", "policy_version"}, {"id"}, {"attr"}, {"scope"}};
constexpr Fields kPlanResourceFields = {{"kind"}, {"policyVersion", "policy_version"}, {"attr"}, {"scope"}};
constexpr Fields kAuxDataFields = {{"jwt"}};
constexpr Fields kJwtFields = {{"token"}, {"keySetId", "key_set_id"}};

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Refuses a key of `object` that is not one of `fields`, naming it and the field it was likely
// meant to be; renames proto spellings to JSON ones in `object` (a copy the caller owns).
Status CheckFields(nlohmann::json& object, const std::string& where, Fields fields) {
  if (!object.is_object()) return Status::Ok();  // the reader words the wrong type
  std::vector<std::pair<std::string, std::string>> renames;
  for (const auto& [key, value] : object.items()) {
    const Field* known = nullptr;
    for (const Field& field : fields) {
      if (key == field.json_name || (field.proto_name != nullptr && key == field.proto_name)) known = &field;
    }
    if (known != nullptr) {
      if (key != known->json_name) renames.emplace_back(key, known->json_name);
      continue;
    }
    std::string reason = "unknown field";
    for (const Field& field : fields) {
      if (EditDistance(key, field.json_name) <= 2) {
        reason += " (did you mean '" + std::string(field.json_name) + "'?)";
        break;
      }
    }
    return Bad(where + key, reason);
  }
  for (auto& [from, to] : renames) {
    if (object.contains(to)) return Bad(where + from, "given twice, also as '" + to + "'");
    object[to] = std::move(object[from]);
    object.erase(from);
  }
  return Status::Ok();
}

nlohmann::json* Member(nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// Both checks' shared parts: principal and auxData.
Status CheckCommonFields(nlohmann::json& body) {
  if (auto* principal = Member(body, "principal")) {
    WARDEN_RETURN_IF_ERROR(CheckFields(*principal, "principal.", kPrincipalFields));
  }
  if (auto* aux = Member(body, "auxData")) {
    WARDEN_RETURN_IF_ERROR(CheckFields(*aux, "auxData.", kAuxDataFields));
    if (auto* jwt = Member(*aux, "jwt")) WARDEN_RETURN_IF_ERROR(CheckFields(*jwt, "auxData.jwt.", kJwtFields));
  }
  return Status::Ok();
}

// Whether every key at every level Cerbos's messages define is a JSON name of that level; then
// the body can be read as is, without a copy (nearly every request).
bool OnlyJsonNames(const nlohmann::json& object, Fields fields) {
  if (!object.is_object()) return true;
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const Field& field : fields) known = known || key == field.json_name;
    if (!known) return false;
  }
  return true;
}

bool CommonPartsPlain(const nlohmann::json& body) {
  auto principal = body.find("principal");
  if (principal != body.end() && !OnlyJsonNames(*principal, kPrincipalFields)) return false;
  auto aux = body.find("auxData");
  if (aux != body.end()) {
    if (!OnlyJsonNames(*aux, kAuxDataFields)) return false;
    if (aux->is_object()) {
      auto jwt = aux->find("jwt");
      if (jwt != aux->end() && !OnlyJsonNames(*jwt, kJwtFields)) return false;
    }
  }
  return true;
}

// `body` itself when it uses only Cerbos's JSON names, else a copy in `storage` with proto names
// renamed; InvalidArgument for an unknown field.
Result<const nlohmann::json*> CheckRequestFields(const nlohmann::json& body, nlohmann::json& storage, bool plan) {
  bool plain = OnlyJsonNames(body, plan ? kPlanFields : kCheckFields) && CommonPartsPlain(body);
  if (plain && plan) {
    auto resource = body.find("resource");
    plain = resource == body.end() || OnlyJsonNames(*resource, kPlanResourceFields);
  } else if (plain) {
    auto resources = body.find("resources");
    if (resources != body.end() && resources->is_array()) {
      for (const auto& entry : *resources) {
        if (!OnlyJsonNames(entry, kEntryFields)) {
          plain = false;
          break;
        }
        auto resource = entry.is_object() ? entry.find("resource") : entry.end();
        if (entry.is_object() && resource != entry.end() && !OnlyJsonNames(*resource, kResourceFields)) {
          plain = false;
          break;
        }
      }
    }
  }
  if (plain) return &body;
  storage = body;
  WARDEN_RETURN_IF_ERROR(CheckFields(storage, "", plan ? kPlanFields : kCheckFields));
  WARDEN_RETURN_IF_ERROR(CheckCommonFields(storage));
  if (plan) {
    if (auto* resource = Member(storage, "resource")) {
      WARDEN_RETURN_IF_ERROR(CheckFields(*resource, "resource.", kPlanResourceFields));
    }
  } else if (auto* resources = Member(storage, "resources"); resources != nullptr && resources->is_array()) {
    for (size_t i = 0; i < resources->size(); ++i) {
      const std::string where = "resources[" + std::to_string(i) + "].";
      auto& entry = (*resources)[i];
      WARDEN_RETURN_IF_ERROR(CheckFields(entry, where, kEntryFields));
      if (auto* resource = Member(entry, "resource")) {
        WARDEN_RETURN_IF_ERROR(CheckFields(*resource, where + "resource.", kResourceFields));
      }
    }
  }
  return &storage;
}

// Reads an optional string field; absent and null are "".
Status OptString(const nlohmann::json& obj, const char* key, const std::string& where, std::string& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return Bad(where + key, "must be a string");
  out = it->get_ref<const std::string&>();
  return Status::Ok();
}

Status ReqString(const nlohmann::json& obj, const char* key, const std::string& where, std::string& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Bad(where + key, "is required");
  WARDEN_RETURN_IF_ERROR(OptString(obj, key, where, out));
  if (out.empty()) return Bad(where + key, "must not be empty");
  return Status::Ok();
}

Status Attr(const nlohmann::json& obj, const std::string& where, cel::Value& out) {
  auto it = obj.find("attr");
  if (it == obj.end() || it->is_null()) {
    out = cel::Value::Map({});
    return Status::Ok();
  }
  if (!it->is_object()) return Bad(where + "attr", "must be an object");
  out = cel::FromJson(*it);
  if (out.is_error()) return Bad(where + "attr", std::string(out.error_message()));
  return Status::Ok();
}

Status Scope(const nlohmann::json& obj, const std::string& where, std::string& out) {
  WARDEN_RETURN_IF_ERROR(OptString(obj, "scope", where, out));
  std::string_view s = out;
  if (s == ".") return Status::Ok();
  if (!s.empty() && s.front() == '.') s.remove_prefix(1);
  bool ok = s.empty() || (s.back() != '.' && s.find("..") == std::string_view::npos);
  for (char c : s) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  if (!ok) return Bad(where + "scope", "'" + out + "' is not a valid scope (dot-separated names)");
  return Status::Ok();
}

Status ParsePrincipal(const nlohmann::json& body, Principal& p) {
  auto it = body.find("principal");
  if (it == body.end() || it->is_null()) return Bad("principal", "is required");
  if (!it->is_object()) return Bad("principal", "must be an object");
  const auto& j = *it;
  WARDEN_RETURN_IF_ERROR(ReqString(j, "id", "principal.", p.id));
  auto roles = j.find("roles");
  if (roles == j.end() || !roles->is_array() || roles->empty()) {
    return Bad("principal.roles", "must be a non-empty list of strings");
  }
  p.roles.reserve(roles->size());
  for (const auto& r : *roles) {
    if (!r.is_string() || r.get_ref<const std::string&>().empty()) {
      return Bad("principal.roles", "must be a non-empty list of strings");
    }
    p.roles.push_back(r.get_ref<const std::string&>());
  }
  WARDEN_RETURN_IF_ERROR(OptString(j, "policyVersion", "principal.", p.policy_version));
  WARDEN_RETURN_IF_ERROR(Scope(j, "principal.", p.scope));
  return Attr(j, "principal.", p.attr);
}

Status AuxData(const nlohmann::json& body, cel::Value& out) {
  auto it = body.find("auxData");
  if (it == body.end() || it->is_null()) return Status::Ok();
  if (!it->is_object()) return Bad("auxData", "must be an object");
  // Warden does not verify JWTs yet: auxData.jwt is accepted and ignored, and conditions see an
  // empty auxData.
  out = cel::FromJson(nlohmann::json::object());
  return Status::Ok();
}

Status OptBool(const nlohmann::json& obj, const char* key, bool& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_boolean()) return Bad(key, "must be a boolean");
  out = it->get<bool>();
  return Status::Ok();
}

// Protobuf's JSON form of google.protobuf.Value prints whole doubles without a fraction (5000,
// not 5000.0); Cerbos clients see outputs that way.
nlohmann::json ProtoJson(const nlohmann::json& v) {
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9007199254740992.0) return static_cast<int64_t>(d);
    return v;
  }
  if (v.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : v) out.push_back(ProtoJson(e));
    return out;
  }
  if (v.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto& [k, e] : v.items()) out[k] = ProtoJson(e);
    return out;
  }
  return v;
}

nlohmann::json ScopeJson(std::string_view s) {
  if (!s.empty() && s.front() == '.') s.remove_prefix(1);
  return std::string(s);
}

}  // namespace

void RemoveRepeatedActions(std::vector<std::string>& actions) {
  // A few actions per entry is the rule: a linear search each is cheapest. A body may carry
  // thousands, though, where that would be quadratic.
  constexpr size_t kMostForLinearSearch = 16;
  if (actions.size() <= kMostForLinearSearch) {
    size_t kept = 0;
    for (size_t i = 0; i < actions.size(); ++i) {
      if (std::find(actions.begin(), actions.begin() + static_cast<std::ptrdiff_t>(kept), actions[i]) !=
          actions.begin() + static_cast<std::ptrdiff_t>(kept)) {
        continue;
      }
      if (kept != i) actions[kept] = std::move(actions[i]);
      ++kept;
    }
    actions.resize(kept);
    return;
  }
  std::vector<std::string> kept;
  kept.reserve(actions.size());
  std::unordered_set<std::string_view> seen;  // views into `actions`, left untouched until the end
  seen.reserve(actions.size());
  for (const std::string& action : actions) {
    if (seen.insert(action).second) kept.push_back(action);
  }
  actions = std::move(kept);
}

Result<CheckResourcesRequest> ParseCheckResourcesRequest(const nlohmann::json& given) {
  if (!given.is_object()) return Status::InvalidArgument("request body must be a JSON object");
  nlohmann::json renamed;
  auto checked = CheckRequestFields(given, renamed, false);
  if (!checked.ok()) return checked.status();
  const nlohmann::json& body = **checked;
  CheckResourcesRequest req;
  WARDEN_RETURN_IF_ERROR(OptString(body, "requestId", "", req.request_id));
  WARDEN_RETURN_IF_ERROR(ParsePrincipal(body, req.principal));
  WARDEN_RETURN_IF_ERROR(OptBool(body, "includeMeta", req.include_meta));
  WARDEN_RETURN_IF_ERROR(AuxData(body, req.aux_data));
  auto res = body.find("resources");
  if (res == body.end() || !res->is_array() || res->empty()) {
    return Bad("resources", "must be a non-empty list");
  }
  req.resources.reserve(res->size());
  for (size_t i = 0; i < res->size(); ++i) {
    const auto& e = (*res)[i];
    // Built only when needed: most requests are valid, and this is the edge's hot path.
    auto where = [i] { return "resources[" + std::to_string(i) + "]"; };
    if (!e.is_object()) return Bad(where(), "must be an object");
    CheckResourcesRequest::Entry entry;
    auto actions = e.find("actions");
    if (actions == e.end() || !actions->is_array() || actions->empty()) {
      return Bad(where() + ".actions", "must be a non-empty list of strings");
    }
    entry.actions.reserve(actions->size());
    for (const auto& a : *actions) {
      const std::string* action = a.is_string() ? &a.get_ref<const std::string&>() : nullptr;
      if (action == nullptr || action->empty()) return Bad(where() + ".actions", "must be a non-empty list of strings");
      entry.actions.push_back(*action);
    }
    RemoveRepeatedActions(entry.actions);
    auto r = e.find("resource");
    if (r == e.end() || !r->is_object()) return Bad(where() + ".resource", "must be an object");
    const std::string rw = where() + ".resource.";
    WARDEN_RETURN_IF_ERROR(ReqString(*r, "kind", rw, entry.resource.kind));
    WARDEN_RETURN_IF_ERROR(ReqString(*r, "id", rw, entry.resource.id));
    WARDEN_RETURN_IF_ERROR(OptString(*r, "policyVersion", rw, entry.resource.policy_version));
    WARDEN_RETURN_IF_ERROR(Scope(*r, rw, entry.resource.scope));
    WARDEN_RETURN_IF_ERROR(Attr(*r, rw, entry.resource.attr));
    req.resources.push_back(std::move(entry));
  }
  return req;
}

nlohmann::json RenderCheckResourcesResponse(const CheckResourcesRequest& request,
                                            const std::vector<Decision>& decisions) {
  nlohmann::json results = nlohmann::json::array();
  for (size_t i = 0; i < request.resources.size() && i < decisions.size(); ++i) {
    const auto& entry = request.resources[i];
    const Decision& d = decisions[i];
    nlohmann::json r;
    r["resource"] = {{"id", entry.resource.id},
                     {"kind", entry.resource.kind},
                     {"policyVersion", entry.resource.policy_version.empty() ? "default" : entry.resource.policy_version},
                     {"scope", ScopeJson(entry.resource.scope)}};
    nlohmann::json actions = nlohmann::json::object();
    for (const auto& a : d.actions) actions[std::string(a.action)] = EffectName(a.effect);
    r["actions"] = std::move(actions);
    if (request.include_meta) {
      nlohmann::json meta_actions = nlohmann::json::object();
      for (const auto& a : d.actions) {
        meta_actions[std::string(a.action)] = {{"matchedPolicy", MatchedPolicy(a, request.principal, entry.resource)},
                                               {"matchedScope", std::string(a.decided_scope)}};
      }
      nlohmann::json roles = nlohmann::json::array();
      for (auto role : d.effective_derived_roles) roles.push_back(std::string(role));
      r["meta"] = {{"actions", std::move(meta_actions)}, {"effectiveDerivedRoles", std::move(roles)}};
    }
    if (!d.outputs.empty()) {
      nlohmann::json outs = nlohmann::json::array();
      for (const auto& o : d.outputs) {
        nlohmann::json e = {{"src", std::string(o.src)}, {"action", std::string(o.action)}};
        if (o.value.is_error()) {
          e["error"] = std::string(o.value.error_message());
        } else {
          e["val"] = ProtoJson(cel::ToJson(o.value));
        }
        outs.push_back(std::move(e));
      }
      r["outputs"] = std::move(outs);
    }
    results.push_back(std::move(r));
  }
  return {{"requestId", request.request_id}, {"results", std::move(results)}};
}

std::vector<Decision> DecideCheckResources(const PolicySet& set, const CheckResourcesRequest& request,
                                           const DecideOptions& options) {
  DecideOptions opts = options;
  if (!request.aux_data.is_null()) opts.aux_data = request.aux_data;
  opts.effective_derived_roles = opts.effective_derived_roles || request.include_meta;
  std::vector<Decision> decisions(request.resources.size());
  for (size_t i = 0; i < request.resources.size(); ++i) {
    set.Decide(request.principal, request.resources[i].resource, request.resources[i].actions, opts, decisions[i]);
  }
  return decisions;
}

void AppendCheckResourcesResponse(std::string& out, const CheckResourcesRequest& request,
                                  const std::vector<Decision>& decisions) {
  // Keys in the order nlohmann::json (std::map) dumps them, so both renderings are the same bytes.
  out += "{\"requestId\":";
  AppendJsonString(out, request.request_id);
  out += ",\"results\":[";
  std::vector<const ActionDecision*> by_action;
  for (size_t i = 0; i < request.resources.size() && i < decisions.size(); ++i) {
    const auto& entry = request.resources[i];
    const Decision& decision = decisions[i];
    if (i > 0) out += ',';
    by_action.clear();
    for (const auto& action : decision.actions) by_action.push_back(&action);
    std::sort(by_action.begin(), by_action.end(),
              [](const ActionDecision* a, const ActionDecision* b) { return a->action < b->action; });
    // A repeated action: the tree kept its last decision under the one key.
    auto last_of_each = [&](size_t k) { return k + 1 == by_action.size() || by_action[k + 1]->action != by_action[k]->action; };
    out += "{\"actions\":{";
    bool first = true;
    for (size_t k = 0; k < by_action.size(); ++k) {
      if (!last_of_each(k)) continue;
      if (!first) out += ',';
      first = false;
      AppendJsonString(out, by_action[k]->action);
      out += ':';
      out += '"';
      out += EffectName(by_action[k]->effect);
      out += '"';
    }
    out += '}';
    if (request.include_meta) {
      out += ",\"meta\":{\"actions\":{";
      first = true;
      for (size_t k = 0; k < by_action.size(); ++k) {
        if (!last_of_each(k)) continue;
        if (!first) out += ',';
        first = false;
        AppendJsonString(out, by_action[k]->action);
        out += ":{\"matchedPolicy\":";
        AppendJsonString(out, MatchedPolicy(*by_action[k], request.principal, entry.resource));
        out += ",\"matchedScope\":";
        AppendJsonString(out, by_action[k]->decided_scope);
        out += '}';
      }
      out += "},\"effectiveDerivedRoles\":[";
      for (size_t k = 0; k < decision.effective_derived_roles.size(); ++k) {
        if (k > 0) out += ',';
        AppendJsonString(out, decision.effective_derived_roles[k]);
      }
      out += "]}";
    }
    if (!decision.outputs.empty()) {
      out += ",\"outputs\":[";
      for (size_t k = 0; k < decision.outputs.size(); ++k) {
        const OutputEntry& output = decision.outputs[k];
        if (k > 0) out += ',';
        out += "{\"action\":";
        AppendJsonString(out, output.action);
        if (output.value.is_error()) {
          out += ",\"error\":";
          AppendJsonString(out, output.value.error_message());
          out += ",\"src\":";
          AppendJsonString(out, output.src);
        } else {
          out += ",\"src\":";
          AppendJsonString(out, output.src);
          out += ",\"val\":";
          out += ProtoJson(cel::ToJson(output.value)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        }
        out += '}';
      }
      out += ']';
    }
    out += ",\"resource\":{\"id\":";
    AppendJsonString(out, entry.resource.id);
    out += ",\"kind\":";
    AppendJsonString(out, entry.resource.kind);
    out += ",\"policyVersion\":";
    AppendJsonString(out, entry.resource.policy_version.empty() ? std::string_view("default")
                                                                : std::string_view(entry.resource.policy_version));
    out += ",\"scope\":";
    std::string_view scope = entry.resource.scope;
    if (!scope.empty() && scope.front() == '.') scope.remove_prefix(1);
    AppendJsonString(out, scope);
    out += "}}";
  }
  out += "]}";
}

nlohmann::json CheckResources(const PolicySet& set, const CheckResourcesRequest& request,
                              const DecideOptions& options) {
  return RenderCheckResourcesResponse(request, DecideCheckResources(set, request, options));
}

Result<PlanResourcesRequest> ParsePlanResourcesRequest(const nlohmann::json& given) {
  if (!given.is_object()) return Status::InvalidArgument("request body must be a JSON object");
  nlohmann::json renamed;
  auto checked = CheckRequestFields(given, renamed, true);
  if (!checked.ok()) return checked.status();
  const nlohmann::json& body = **checked;
  PlanResourcesRequest req;
  WARDEN_RETURN_IF_ERROR(OptString(body, "requestId", "", req.request_id));
  auto action = body.find("action");
  auto actions = body.find("actions");
  const bool has_action = action != body.end() && !action->is_null();
  const bool has_actions = actions != body.end() && !actions->is_null();
  if (has_action && has_actions) return Bad("action", "give either action or actions, not both");
  if (has_action) {
    if (!action->is_string() || action->get<std::string>().empty()) return Bad("action", "must be a non-empty string");
    req.actions.push_back(action->get<std::string>());
  } else if (has_actions) {
    if (!actions->is_array() || actions->empty()) return Bad("actions", "must be a non-empty list of strings");
    for (const auto& a : *actions) {
      if (!a.is_string() || a.get<std::string>().empty()) return Bad("actions", "must be a non-empty list of strings");
      req.actions.push_back(a.get<std::string>());
    }
    req.action_was_list = true;
  } else {
    return Bad("action", "is required");
  }
  WARDEN_RETURN_IF_ERROR(ParsePrincipal(body, req.principal));
  WARDEN_RETURN_IF_ERROR(OptBool(body, "includeMeta", req.include_meta));
  WARDEN_RETURN_IF_ERROR(AuxData(body, req.aux_data));
  auto r = body.find("resource");
  if (r == body.end() || !r->is_object()) return Bad("resource", "must be an object");
  WARDEN_RETURN_IF_ERROR(ReqString(*r, "kind", "resource.", req.resource.kind));
  WARDEN_RETURN_IF_ERROR(OptString(*r, "policyVersion", "resource.", req.resource.policy_version));
  WARDEN_RETURN_IF_ERROR(Scope(*r, "resource.", req.resource.scope));
  WARDEN_RETURN_IF_ERROR(Attr(*r, "resource.", req.resource.attr));
  return req;
}

nlohmann::json PlanResources(const PolicySet& set, const PlanResourcesRequest& request, const DecideOptions& options) {
  DecideOptions opts = options;
  if (!request.aux_data.is_null()) opts.aux_data = request.aux_data;
  PlanResult merged;
  merged.kind = PlanResult::Kind::kAlwaysAllowed;
  nlohmann::json scopes = nlohmann::json::object();
  for (const auto& action : request.actions) {
    PlanResult p = set.Plan(request.principal, request.resource, action, opts);
    scopes[action] = p.matched_scope;
    if (merged.kind == PlanResult::Kind::kAlwaysDenied) continue;
    if (p.kind == PlanResult::Kind::kAlwaysDenied) {
      merged = p;
    } else if (p.kind == PlanResult::Kind::kConditional) {
      merged.condition = merged.kind == PlanResult::Kind::kConditional ? cel::Residual::And(merged.condition, p.condition)
                                                                        : p.condition;
      merged.kind = PlanResult::Kind::kConditional;
    }
  }
  nlohmann::json out = {{"requestId", request.request_id},
                        {"resourceKind", request.resource.kind},
                        {"policyVersion", request.resource.policy_version.empty() ? "default" : request.resource.policy_version},
                        {"filter", merged.FilterJson()}};
  if (request.action_was_list) {
    out["actions"] = request.actions;
  } else {
    out["action"] = request.actions.front();
  }
  if (request.include_meta) {
    out["meta"] = {{"filterDebug", merged.kind == PlanResult::Kind::kConditional ? merged.condition.DebugString()
                                   : merged.kind == PlanResult::Kind::kAlwaysAllowed ? "(true)" : "(false)"},
                   {"matchedScopes", std::move(scopes)}};
  }
  return out;
}

}  // namespace warden::policy
