// wardenctl object get|set|rm and wardenctl relation set|rm|list.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "control-plane/ctl/client.h"
#include "control-plane/ctl/commands.h"

namespace warden::ctl {
namespace {

constexpr const char* kObjectUsage =
    "usage: wardenctl object get TYPE:ID\n"
    "       wardenctl object set TYPE:ID ['{\"display_name\": ..., \"properties\": {...}}']\n"
    "       wardenctl object rm TYPE:ID\n";
constexpr const char* kRelationUsage =
    "usage: wardenctl relation set|rm OBJECT_TYPE:OBJECT_ID#RELATION@SUBJECT_TYPE:SUBJECT_ID[#SUBJECT_RELATION]\n"
    "       wardenctl relation list [object_type=T] [object_id=I] [relation=R] [subject_type=T] [subject_id=I]\n";

bool SplitObject(const std::string& spec, std::string& type, std::string& id) {
  size_t colon = spec.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size()) return false;
  type = spec.substr(0, colon);
  id = spec.substr(colon + 1);
  return true;
}

// object_type:object_id#relation@subject_type:subject_id[#subject_relation]. Ids may hold '@' (an
// email) but not '#'.
std::optional<nlohmann::json> ParseRelation(const std::string& spec) {
  size_t colon = spec.find(':');
  if (colon == std::string::npos) return std::nullopt;
  size_t hash = spec.find('#', colon);
  if (hash == std::string::npos) return std::nullopt;
  size_t at = spec.find('@', hash);
  if (at == std::string::npos) return std::nullopt;
  std::string subject = spec.substr(at + 1);
  size_t subject_colon = subject.find(':');
  if (subject_colon == std::string::npos) return std::nullopt;
  std::string subject_id = subject.substr(subject_colon + 1);
  std::string subject_relation;
  if (size_t sub_hash = subject_id.rfind('#'); sub_hash != std::string::npos) {
    subject_relation = subject_id.substr(sub_hash + 1);
    subject_id = subject_id.substr(0, sub_hash);
  }
  nlohmann::json r = {{"object_type", spec.substr(0, colon)},
                      {"object_id", spec.substr(colon + 1, hash - colon - 1)},
                      {"relation", spec.substr(hash + 1, at - hash - 1)},
                      {"subject_type", subject.substr(0, subject_colon)},
                      {"subject_id", subject_id}};
  if (!subject_relation.empty()) r["subject_relation"] = subject_relation;
  for (const auto& [key, value] : r.items()) {
    if (value.get<std::string>().empty()) return std::nullopt;
  }
  return r;
}

std::string RelationText(const nlohmann::json& r) {
  std::string s;
  s.append(r.value("object_type", "")).append(":").append(r.value("object_id", "")).append("#");
  s.append(r.value("relation", "")).append("@").append(r.value("subject_type", "")).append(":");
  s.append(r.value("subject_id", ""));
  if (!r.value("subject_relation", "").empty()) s.append("#").append(r.value("subject_relation", ""));
  return s;
}

void PrintWrite(const nlohmann::json& j) {
  std::printf("revision %llu\n", static_cast<unsigned long long>(j.value("revision", uint64_t{0})));
}

}  // namespace

int ObjectCommand(const std::vector<std::string>& args) {
  auto options = ParseRemoteOptions("object", args);
  if (!options) return kExitUsage;
  const auto& a = options->args;
  std::string type, id;
  if (a.size() < 2 || !SplitObject(a[1], type, id)) {
    std::fputs(kObjectUsage, stderr);
    return kExitUsage;
  }
  Client client(*options);
  std::string path = "/v1/objects/" + UrlEncode(type) + "/" + UrlEncode(id);
  if (a[0] == "get" && a.size() == 2) {
    return client.Call("GET", path, nullptr, [](const nlohmann::json& j) { std::printf("%s\n", j.dump(2).c_str()); });
  }
  if (a[0] == "set" && a.size() <= 3) {
    nlohmann::json body = nlohmann::json::object();
    if (a.size() == 3) {
      body = nlohmann::json::parse(a[2], nullptr, false);
      if (body.is_discarded() || !body.is_object()) {
        std::fprintf(stderr, "wardenctl object set: the third argument must be a JSON object\n");
        return kExitUsage;
      }
    }
    return client.Call("PUT", path, &body, PrintWrite);
  }
  if (a[0] == "rm" && a.size() == 2) return client.Call("DELETE", path, nullptr, PrintWrite);
  std::fputs(kObjectUsage, stderr);
  return kExitUsage;
}

int RelationCommand(const std::vector<std::string>& args) {
  auto options = ParseRemoteOptions("relation", args);
  if (!options) return kExitUsage;
  const auto& a = options->args;
  Client client(*options);
  if (!a.empty() && a[0] == "list") {
    std::string query = "?page_size=1000";
    for (size_t i = 1; i < a.size(); ++i) {
      size_t eq = a[i].find('=');
      if (eq == std::string::npos) {
        std::fputs(kRelationUsage, stderr);
        return kExitUsage;
      }
      query.append("&").append(UrlEncode(a[i].substr(0, eq))).append("=").append(UrlEncode(a[i].substr(eq + 1)));
    }
    // Follows the cursor to the end, so the list is complete.
    std::vector<nlohmann::json> all;
    std::string cursor;
    do {
      auto answer = client.Send("GET", "/v1/relations" + query + (cursor.empty() ? "" : "&cursor=" + UrlEncode(cursor)));
      if (!answer.ok()) {
        std::fprintf(stderr, "wardenctl: %s\n", answer.status().message().c_str());
        return kExitUsage;
      }
      if (answer->status != 200) return PrintRefusal(*answer);
      auto page = nlohmann::json::parse(answer->body);
      for (auto& r : page["relations"]) all.push_back(std::move(r));
      cursor = page.value("next_cursor", "");
    } while (!cursor.empty());
    if (options->json) {
      std::printf("%s\n", nlohmann::json{{"relations", all}}.dump().c_str());
    } else {
      for (const auto& r : all) std::printf("%s\n", RelationText(r).c_str());
    }
    return kExitOk;
  }
  if (a.size() == 2 && (a[0] == "set" || a[0] == "rm")) {
    auto relation = ParseRelation(a[1]);
    if (!relation) {
      std::fprintf(stderr, "wardenctl relation: '%s' is not TYPE:ID#RELATION@TYPE:ID[#RELATION]\n", a[1].c_str());
      return kExitUsage;
    }
    if (a[0] == "set") return client.Call("POST", "/v1/relations", &*relation, PrintWrite);
    std::string query;
    for (const auto& [key, value] : relation->items()) {
      query.append(query.empty() ? "?" : "&").append(key).append("=").append(UrlEncode(value.get<std::string>()));
    }
    return client.Call("DELETE", "/v1/relations" + query, nullptr, PrintWrite);
  }
  std::fputs(kRelationUsage, stderr);
  return kExitUsage;
}

}  // namespace warden::ctl
