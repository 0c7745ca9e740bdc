#include "common/engine/enrich.h"

#include <algorithm>

namespace warden::engine {

nlohmann::json MergeProperties(const nlohmann::json& stored, const nlohmann::json& given) {
  nlohmann::json merged = stored.is_object() ? stored : nlohmann::json::object();
  if (given.is_object()) {
    for (auto it = given.begin(); it != given.end(); ++it) merged[it.key()] = it.value();
  }
  return merged;
}

nlohmann::json StoredProperties(const Snapshot& snapshot, const std::string& type, const std::string& id) {
  auto record = snapshot.directory->GetObject(type, id);
  if (!record.ok()) return nullptr;
  return record->properties;
}

const nlohmann::json* FindStoredProperties(const Snapshot& snapshot, std::string_view type, std::string_view id) {
  const auto& directory = *snapshot.directory;
  auto type_symbol = directory.model().FindSymbol(type);
  auto id_number = directory.FindId(id);
  if (!type_symbol || !id_number) return nullptr;
  const auto* record = directory.objects().Find(directory::DirectorySnapshot::ObjectKey(*type_symbol, *id_number));
  return record == nullptr ? nullptr : &(*record)->properties;
}

cel::Value PropertiesValue(const nlohmann::json* stored, const nlohmann::json& given) {
  bool has_given = given.is_object() && !given.empty();
  if (stored == nullptr || !stored->is_object() || stored->empty()) {
    return cel::FromJson(has_given ? given : nlohmann::json::object());
  }
  if (!has_given) return cel::FromJson(*stored);
  return cel::FromJson(MergeProperties(*stored, given));
}

void AddRoles(const nlohmann::json& properties, std::vector<std::string>& roles) {
  if (!properties.is_object()) return;
  auto it = properties.find("roles");
  if (it == properties.end() || !it->is_array()) return;
  for (const auto& role : *it) {
    if (role.is_string() && std::find(roles.begin(), roles.end(), role.get<std::string>()) == roles.end()) {
      roles.push_back(role.get<std::string>());
    }
  }
}

void EnrichCerbosPrincipal(const Snapshot& snapshot, nlohmann::json& principal) {
  if (!principal.is_object()) return;
  auto id = principal.find("id");
  if (id == principal.end() || !id->is_string()) return;
  auto user = snapshot.directory->ResolveUser(id->get<std::string>());
  if (!user) return;
  nlohmann::json stored = StoredProperties(snapshot, "user", *user);
  principal["id"] = *user;
  if (stored.is_null()) return;
  std::vector<std::string> roles;
  auto given_roles = principal.find("roles");
  if (given_roles != principal.end() && given_roles->is_array()) {
    AddRoles(nlohmann::json{{"roles", *given_roles}}, roles);
  }
  AddRoles(stored, roles);
  principal["roles"] = roles;
  auto attr = principal.find("attr");
  principal["attr"] = MergeProperties(stored, attr != principal.end() ? *attr : nlohmann::json());
}

void EnrichCerbosResource(const Snapshot& snapshot, nlohmann::json& resource) {
  if (!resource.is_object()) return;
  auto kind = resource.find("kind");
  auto id = resource.find("id");
  if (kind == resource.end() || id == resource.end() || !kind->is_string() || !id->is_string()) return;
  nlohmann::json stored = StoredProperties(snapshot, kind->get<std::string>(), id->get<std::string>());
  if (stored.is_null()) return;
  auto attr = resource.find("attr");
  resource["attr"] = MergeProperties(stored, attr != resource.end() ? *attr : nlohmann::json());
}

bool EnrichScannedCerbosRequest(const Snapshot& snapshot, policy::CheckResourcesRequest& request) {
  // Mirrors EnrichCerbosPrincipal and EnrichCerbosResource: stored properties that are null
  // leave an entity as the request gives it.
  auto stored_or_null = [&](std::string_view type, std::string_view id) {
    const nlohmann::json* stored = FindStoredProperties(snapshot, type, id);
    return stored == nullptr || stored->is_null();
  };
  for (const auto& entry : request.resources) {
    if (!stored_or_null(entry.resource.kind, entry.resource.id)) return false;
  }
  auto user = snapshot.directory->ResolveUser(request.principal.id);
  if (!user) return true;
  if (!stored_or_null("user", *user)) return false;
  request.principal.id = std::move(*user);
  return true;
}

}  // namespace warden::engine
