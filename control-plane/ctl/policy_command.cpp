// wardenctl policy list|get|tag|rollback and wardenctl manifest get.
#include <algorithm>
#include <cstdio>
#include <map>

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
    "       wardenctl policy rollback TAG|REVISION  make that set current again (a new revision)\n"
    "       wardenctl policy diff A B             what changed from set A to set B (TAG or REVISION each)\n";

bool IsRevisionNumber(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos && text.size() < 19;
}

// The revision of the policy set `name` names: a tag, or a revision number meaning the set in force
// at that revision (the latest pushed at or before it).
Result<uint64_t> ResolveSet(const nlohmann::json& sets, const std::string& name) {
  uint64_t best = 0;
  const bool numeric = IsRevisionNumber(name);
  const uint64_t wanted = numeric ? std::stoull(name) : 0;
  for (const auto& set : sets) {
    uint64_t revision = set.value("revision", uint64_t{0});
    if (numeric) {
      if (revision <= wanted && revision > best) best = revision;
    } else if (set.contains("tags")) {
      for (const auto& tag : set["tags"]) {
        if (tag == name) return revision;
      }
    }
  }
  if (best == 0) {
    return Status::NotFound(numeric ? "no policy set was pushed at or before revision " + name
                                    : "no policy set is tagged '" + name + "'");
  }
  return best;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// A line diff of two versions of one file, '-' and '+' lines with two lines of context, from the
// longest common subsequence. Files too long for the quadratic table get a one-line summary.
void PrintFileDiff(const std::string& before, const std::string& after) {
  const auto a = Lines(before), b = Lines(after);
  if (a.size() * b.size() > 4'000'000) {
    std::printf("  (%zu lines -> %zu lines; too long to show line by line)\n", a.size(), b.size());
    return;
  }
  std::vector<std::vector<uint32_t>> common(a.size() + 1, std::vector<uint32_t>(b.size() + 1, 0));
  for (size_t i = a.size(); i-- > 0;) {
    for (size_t j = b.size(); j-- > 0;) {
      common[i][j] = a[i] == b[j] ? common[i + 1][j + 1] + 1 : std::max(common[i + 1][j], common[i][j + 1]);
    }
  }
  struct Line {
    char mark;
    const std::string* text;
  };
  std::vector<Line> script;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      script.push_back({' ', &a[i++]});
      ++j;
    } else if (j < b.size() && (i == a.size() || common[i][j + 1] >= common[i + 1][j])) {
      script.push_back({'+', &b[j++]});
    } else {
      script.push_back({'-', &a[i++]});
    }
  }
  constexpr size_t kContext = 2;
  size_t last_printed = 0;
  bool any_printed = false;
  for (size_t k = 0; k < script.size(); ++k) {
    bool near_change = false;
    for (size_t d = (k >= kContext ? k - kContext : 0); d <= std::min(script.size() - 1, k + kContext); ++d) {
      near_change = near_change || script[d].mark != ' ';
    }
    if (!near_change) continue;
    if (any_printed && k > last_printed + 1) std::printf("  ...\n");
    std::printf("  %c %s\n", script[k].mark, script[k].text->c_str());
    last_printed = k;
    any_printed = true;
  }
}

}  // namespace

namespace {

int PolicyDiff(const Client& client, const std::string& from, const std::string& to) {
  auto get = [&client](const std::string& target) -> Result<nlohmann::json> {
    auto answer = client.Send("GET", target);
    if (!answer.ok()) return answer.status();
    if (answer->status != 200) return Status::FailedPrecondition(std::to_string(answer->status) + " " + answer->body);
    auto json = nlohmann::json::parse(answer->body, nullptr, false);
    if (json.is_discarded()) return Status::Internal("the server's answer to " + target + " is not JSON");
    return json;
  };
  auto sets = get("/v1/policy-sets");
  if (!sets.ok()) {
    std::fprintf(stderr, "wardenctl: %s\n", sets.status().message().c_str());
    return sets.status().code() == StatusCode::kUnavailable ? kExitUsage : kExitRefused;
  }
  std::map<std::string, std::string> files[2];
  uint64_t revisions[2] = {0, 0};
  const std::string names[2] = {from, to};
  for (int side = 0; side < 2; ++side) {
    auto revision = ResolveSet((*sets)["policy_sets"], names[side]);
    if (!revision.ok()) {
      std::fprintf(stderr, "wardenctl policy diff: %s\n", revision.status().message().c_str());
      return kExitRefused;
    }
    revisions[side] = *revision;
    auto set = get("/v1/policy-sets/" + std::to_string(*revision));
    if (!set.ok()) {
      std::fprintf(stderr, "wardenctl: %s\n", set.status().message().c_str());
      return kExitRefused;
    }
    for (const auto& file : (*set)["files"]) files[side][file.value("path", "")] = file.value("text", "");
  }
  if (client.options().json) {
    nlohmann::json out = {{"from", revisions[0]}, {"to", revisions[1]}, {"added", nlohmann::json::array()},
                          {"removed", nlohmann::json::array()}, {"changed", nlohmann::json::array()}};
    for (const auto& [path, text] : files[1]) {
      auto before = files[0].find(path);
      if (before == files[0].end()) out["added"].push_back(path);
      else if (before->second != text) out["changed"].push_back(path);
    }
    for (const auto& [path, text] : files[0]) {
      if (!files[1].count(path)) out["removed"].push_back(path);
    }
    std::printf("%s\n", out.dump().c_str());
    return kExitOk;
  }
  std::printf("policy set at revision %llu -> policy set at revision %llu\n",
              static_cast<unsigned long long>(revisions[0]), static_cast<unsigned long long>(revisions[1]));
  size_t differences = 0;
  for (const auto& [path, text] : files[0]) {
    if (!files[1].count(path)) {
      std::printf("removed %s\n", path.c_str());
      ++differences;
    }
  }
  for (const auto& [path, text] : files[1]) {
    auto before = files[0].find(path);
    if (before == files[0].end()) {
      std::printf("added   %s\n", path.c_str());
      ++differences;
    } else if (before->second != text) {
      std::printf("changed %s\n", path.c_str());
      PrintFileDiff(before->second, text);
      ++differences;
    }
  }
  if (differences == 0) std::printf("no differences\n");
  return kExitOk;
}

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
  if (verb == "diff" && a.size() == 3) return PolicyDiff(client, a[1], a[2]);
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
