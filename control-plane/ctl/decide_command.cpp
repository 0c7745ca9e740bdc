// wardenctl check and wardenctl evaluate: decisions asked of the control plane, with their path.
#include <cstdio>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "control-plane/ctl/client.h"
#include "control-plane/ctl/commands.h"

namespace warden::ctl {
namespace {

constexpr const char* kCheckUsage =
    "usage: wardenctl check SUBJECT_TYPE:SUBJECT_ID[#RELATION] PERMISSION OBJECT_TYPE:OBJECT_ID\n";
constexpr const char* kEvaluateUsage = "usage: wardenctl evaluate '{\"subject\": ..., \"action\": ..., \"resource\": ...}' | -\n";

struct Reference {
  std::string type, id, relation;
};

// TYPE:ID[#RELATION]; ids may hold ':' (a URN) but not '#'.
std::optional<Reference> ParseReference(const std::string& text, bool relation_allowed) {
  Reference reference;
  std::string rest = text;
  size_t hash = rest.find('#');
  if (hash != std::string::npos) {
    if (!relation_allowed) return std::nullopt;
    reference.relation = rest.substr(hash + 1);
    rest = rest.substr(0, hash);
    if (reference.relation.empty()) return std::nullopt;
  }
  size_t colon = rest.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) return std::nullopt;
  reference.type = rest.substr(0, colon);
  reference.id = rest.substr(colon + 1);
  return reference;
}

void PrintTrace(const nlohmann::json& trace) {
  if (!trace.is_array()) return;
  for (const auto& step : trace) std::printf("  %s\n", step.is_string() ? step.get<std::string>().c_str() : step.dump().c_str());
}

}  // namespace

int CheckCommand(const std::vector<std::string>& args) {
  auto options = ParseRemoteOptions("check", args);
  if (!options) return kExitUsage;
  const auto& a = options->args;
  if (a.size() != 3) {
    std::fputs(kCheckUsage, stderr);
    return kExitUsage;
  }
  auto subject = ParseReference(a[0], true);
  auto object = ParseReference(a[2], false);
  if (!subject || !object) {
    std::fprintf(stderr, "wardenctl check: '%s' is not TYPE:ID\n%s", (!subject ? a[0] : a[2]).c_str(), kCheckUsage);
    return kExitUsage;
  }
  nlohmann::json body = {{"object_type", object->type}, {"object_id", object->id},   {"relation", a[1]},
                         {"subject_type", subject->type}, {"subject_id", subject->id}, {"trace", true}};
  if (!subject->relation.empty()) body["subject_relation"] = subject->relation;
  Client client(*options);
  return client.Call("POST", "/v1/check", &body, [&](const nlohmann::json& answer) {
    bool allowed = answer.value("check", false);
    std::printf("%s: %s %s %s (revision %llu)\n", allowed ? "allowed" : "denied", a[0].c_str(), a[1].c_str(),
                a[2].c_str(), static_cast<unsigned long long>(answer.value("revision", uint64_t{0})));
    if (answer.contains("trace")) PrintTrace(answer["trace"]);
  });
}

int EvaluateCommand(const std::vector<std::string>& args) {
  auto options = ParseRemoteOptions("evaluate", args);
  if (!options) return kExitUsage;
  if (options->args.size() != 1) {
    std::fputs(kEvaluateUsage, stderr);
    return kExitUsage;
  }
  std::string text = options->args[0];
  if (text == "-") {
    std::ostringstream in;
    in << std::cin.rdbuf();
    text = std::move(in).str();
  }
  auto body = nlohmann::json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    std::fprintf(stderr, "wardenctl evaluate: the request must be a JSON object (an AuthZEN evaluation)\n%s",
                 kEvaluateUsage);
    return kExitUsage;
  }
  Client client(*options);
  return client.Call("POST", "/v1/evaluation", &body, [](const nlohmann::json& answer) {
    if (answer.contains("evaluations")) {
      std::printf("%s\n", answer.dump(2).c_str());
      return;
    }
    const auto& context = answer.contains("context") ? answer["context"] : nlohmann::json::object();
    std::printf("%s (revision %llu)\n", answer.value("decision", false) ? "allowed" : "denied",
                static_cast<unsigned long long>(context.value("revision", uint64_t{0})));
    if (context.contains("reason_admin")) {
      const auto& reason = context["reason_admin"];
      std::printf("  %s\n", reason.value("reason", std::string()).c_str());
      if (reason.contains("policy")) {
        std::printf("  policy %s%s\n", reason.value("policy", std::string()).c_str(),
                    reason.contains("rule") ? (" rule " + reason.value("rule", std::string())).c_str() : "");
      }
      if (reason.contains("relation_path")) PrintTrace(reason["relation_path"]);
    }
  });
}

}  // namespace warden::ctl
