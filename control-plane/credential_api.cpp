// /v1/keys (edge keys) and /v1/tokens (admin tokens).
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "control-plane/admin_api.h"

namespace warden::control_plane {
namespace {

using http::Method;

Result<std::string> NameFrom(const nlohmann::json& json, const std::vector<std::string>& allowed) {
  if (!json.is_object()) return Status::InvalidArgument("body: must be a JSON object");
  for (const auto& [key, value] : json.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Status::InvalidArgument(key + ": unknown field");
    }
  }
  if (!json.contains("name") || !json["name"].is_string()) return Status::InvalidArgument("name: required, a string");
  std::string name = json["name"].get<std::string>();
  if (name.empty() || name.size() > 128) return Status::InvalidArgument("name: must be 1 to 128 bytes");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return Status::InvalidArgument("name: holds a control character");
  }
  return name;
}

}  // namespace

void AddCredentialRoutes(http::Router& router, ControlPlane& cp, const AdminLimits& limits) {
  const size_t body = limits.max_write_body;

  router.Add(Method::kPost, "/v1/keys", Authed(cp, Scope::kWrite, body, [&cp](http::Request& request, const Caller& caller) {
               nlohmann::json json;
               if (auto error = http::ParseJsonBody(request, json)) return *error;
               auto name = NameFrom(json, {"name"});
               if (!name.ok()) return http::ErrorResponse(name.status());
               auto key = cp.CreateKey(*name);
               if (!key.ok()) return http::ErrorResponse(key.status());
               spdlog::info("edge key {} ('{}') created by {}", key->id, *name, caller.name);
               return http::JsonResponse({{"id", key->id}, {"name", *name}, {"key", key->secret}}, 201);
             }));
  router.Add(Method::kGet, "/v1/keys", Authed(cp, Scope::kRead, 0, [&cp](http::Request&, const Caller&) {
               auto keys = cp.store().ApiKeys();
               if (!keys.ok()) return http::ErrorResponse(keys.status());
               nlohmann::json list = nlohmann::json::array();
               for (const auto& k : *keys) list.push_back({{"id", k.id}, {"name", k.name}, {"created", Rfc3339(k.created_at)}});
               return http::JsonResponse({{"keys", list}});
             }));
  router.Add(Method::kDelete, "/v1/keys/{id}", Authed(cp, Scope::kWrite, body, [&cp](http::Request& request, const Caller& caller) {
               std::string id(request.path_param("id"));
               Status status = cp.RevokeKey(id);
               if (!status.ok()) return http::ErrorResponse(status);
               spdlog::info("edge key {} revoked by {}", id, caller.name);
               return http::JsonResponse({{"id", id}, {"revoked", true}});
             }));

  // Body: {"name", "scope": "read"|"write"}; answers the token once.
  router.Add(Method::kPost, "/v1/tokens", Authed(cp, Scope::kWrite, body, [&cp](http::Request& request, const Caller& caller) {
               nlohmann::json json;
               if (auto error = http::ParseJsonBody(request, json)) return *error;
               auto name = NameFrom(json, {"name", "scope"});
               if (!name.ok()) return http::ErrorResponse(name.status());
               if (!json.contains("scope") || !json["scope"].is_string() ||
                   (json["scope"] != "read" && json["scope"] != "write")) {
                 return http::ErrorResponse(400, "invalid_argument", "scope: required, \"read\" or \"write\"");
               }
               auto token = cp.store().CreateToken(*name, json["scope"].get<std::string>());
               if (!token.ok()) return http::ErrorResponse(token.status());
               if (Status s = cp.ReloadTokens(); !s.ok()) return http::ErrorResponse(s);
               spdlog::info("admin token {} ('{}', {}) created by {}", token->id, *name, json["scope"].get<std::string>(),
                            caller.name);
               return http::JsonResponse(
                   {{"id", token->id}, {"name", *name}, {"scope", json["scope"]}, {"token", token->secret}}, 201);
             }));
  router.Add(Method::kGet, "/v1/tokens", Authed(cp, Scope::kRead, 0, [&cp](http::Request&, const Caller&) {
               auto tokens = cp.store().Tokens();
               if (!tokens.ok()) return http::ErrorResponse(tokens.status());
               nlohmann::json list = nlohmann::json::array();
               for (const auto& t : *tokens) {
                 list.push_back({{"id", t.id}, {"name", t.name}, {"scope", t.scope}, {"created", Rfc3339(t.created_at)}});
               }
               return http::JsonResponse({{"tokens", list}});
             }));
  router.Add(Method::kDelete, "/v1/tokens/{id}", Authed(cp, Scope::kWrite, body, [&cp](http::Request& request, const Caller& caller) {
               std::string id(request.path_param("id"));
               Status status = cp.store().DeleteToken(id);
               if (!status.ok()) return http::ErrorResponse(status);
               if (Status s = cp.ReloadTokens(); !s.ok()) return http::ErrorResponse(s);
               spdlog::info("admin token {} revoked by {}", id, caller.name);
               return http::JsonResponse({{"id", id}, {"revoked", true}});
             }));
}

}  // namespace warden::control_plane
