// wardenctl policy list|get|tag|rollback and wardenctl manifest get.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "control-plane/ctl/client.h"
#include "control-plane/ctl/commands.h"

namespace warden::ctl {
namespace {

constexpr const char* kPolicyUsage =
    "usage: wardenctl policy list                 current policy files\n"
    "       wardenctl policy get PATH             print one file\n"
    "       wardenctl policy history              every pushed policy set (revision, hash, author, time, tags)\n"
    "       wardenctl policy tag REVISION TAG     tag the set pushed at REVISION\n"
    "       wardenctl policy rollback TAG|REVISION  make that set current again (a new revision)\n";

}  // namespace

int PolicyCommand(const std::vector<std::string>& args) {
  auto options = ParseRemoteOptions("policy", args);
  if (!options) return kExitUsage;
  const auto& a = options->args;
  Client client(*options);
  std::string verb = a.empty() ? "" : a[0];
  if (verb == "list" && a.size() == 1) {
    return client.Call("GET", "/v1/policies?page_size=10000", nullptr, [](const nlohmann::json& j) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& p : j["policies"]) {
        rows.push_back({p["path"].get<std::string>(), p["sha256"].get<std::string>().substr(0, 12), U64Cell(p, "bytes")});
      }
      PrintTable({"PATH", "SHA256", "BYTES"}, rows);
    });
  }
  if (verb == "get" && a.size() == 2) {
    return client.Call("GET", "/v1/policies/" + a[1], nullptr,
                       [](const nlohmann::json& j) { std::fputs(j["text"].get<std::string>().c_str(), stdout); });
  }
  if ((verb == "history" || verb == "sets") && a.size() == 1) {
    return client.Call("GET", "/v1/policy-sets", nullptr, [](const nlohmann::json& j) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& s : j["policy_sets"]) {
        std::string tags;
        for (const auto& t : s["tags"]) tags += (tags.empty() ? "" : ",") + t.get<std::string>();
        rows.push_back({U64Cell(s, "revision"), s["sha256"].get<std::string>().substr(0, 12), s["author"].get<std::string>(),
                        s["time"].get<std::string>(), U64Cell(s, "files"), tags});
      }
      PrintTable({"REVISION", "SHA256", "AUTHOR", "TIME", "FILES", "TAGS"}, rows);
    });
  }
  if (verb == "tag" && a.size() == 3) {
    nlohmann::json body = {{"tag", a[2]}};
    return client.Call("POST", "/v1/policy-sets/" + UrlEncode(a[1]) + "/tags", &body, [](const nlohmann::json& j) {
      std::printf("tagged revision %s as %s\n", U64Cell(j, "revision").c_str(), j["tag"].get<std::string>().c_str());
    });
  }
  if (verb == "rollback" && a.size() == 2) {
    nlohmann::json body;
    if (!a[1].empty() && a[1].find_first_not_of("0123456789") == std::string::npos && a[1].size() < 19) {
      body["revision"] = std::stoull(a[1]);
    } else {
      body["tag"] = a[1];
    }
    return client.Call("POST", "/v1/rollback", &body, [](const nlohmann::json& j) {
      std::printf("revision %s%s\n", U64Cell(j, "revision").c_str(), j.value("changed", true) ? "" : " (nothing changed)");
    });
  }
  std::fputs(kPolicyUsage, stderr);
  return kExitUsage;
}

int ManifestCommand(const std::vector<std::string>& args) {
  auto options = ParseRemoteOptions("manifest", args);
  if (!options) return kExitUsage;
  if (options->args.size() != 1 || options->args[0] != "get") {
    std::fputs("usage: wardenctl manifest get [--json]\n", stderr);
    return kExitUsage;
  }
  Client client(*options);
  return client.Call("GET", "/v1/manifest", nullptr,
                     [](const nlohmann::json& j) { std::fputs(j["text"].get<std::string>().c_str(), stdout); });
}

}  // namespace warden::ctl
