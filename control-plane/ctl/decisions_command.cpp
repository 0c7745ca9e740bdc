// wardenctl decisions [FILTER=VALUE ...] [--follow] [--json]: the decision logs edges shipped.
#include <chrono>
#include <cstdio>
#include <thread>

#include <nlohmann/json.hpp>

#include "control-plane/ctl/client.h"
#include "control-plane/ctl/commands.h"

namespace warden::ctl {
namespace {

constexpr const char* kUsage =
    "usage: wardenctl decisions [subject=TYPE:ID] [resource=TYPE:ID] [action=A] [decision=allow|deny]\n"
    "                           [edge=INSTANCE] [from=TIME] [to=TIME] [limit=N] [--follow] [--json]\n"
    "  TIME is RFC 3339 or unix seconds. The latest matching entries (limit=N, 20 unless given), oldest\n"
    "  first so the newest is last; --follow then prints each new entry as it arrives\n";

std::vector<std::string> Row(const nlohmann::json& e) {
  auto entity = [&e](const char* field) {
    if (!e.contains(field) || !e[field].is_object()) return std::string();
    return e[field].value("type", std::string()) + ":" + e[field].value("id", std::string());
  };
  std::string why = e.value("policy", std::string());
  if (e.contains("rule")) why += (why.empty() ? "" : " ") + std::string("rule ") + e.value("rule", std::string());
  if (why.empty()) why = e.value("reason", std::string());
  if (why.size() > 60) why = why.substr(0, 57) + "...";
  std::string instance = e.value("instance_id", std::string()).substr(0, 8);
  return {e.value("time", std::string()).substr(0, 23), instance, e.value("api", std::string()), entity("subject"),
          e.value("action", std::string()), entity("resource"), e.value("decision", std::string()),
          std::to_string(e.value("revision", uint64_t{0})), why};
}

const std::vector<std::string> kHeader = {"TIME", "EDGE", "API", "SUBJECT", "ACTION", "RESOURCE", "DECISION",
                                          "REVISION", "WHY"};
// Columns wide enough for typical rows, so --follow's rows line up even after an empty page.
const std::vector<size_t> kMinWidths = {23, 8, 7, 20, 10, 20, 8, 8, 0};

}  // namespace

int DecisionsCommand(const std::vector<std::string>& args) {
  auto options = ParseRemoteOptions("decisions", args, {"--follow"});
  if (!options) return kExitUsage;
  std::string query;
  std::string filters = "?order=asc&limit=1000";  // what --follow asks with
  bool has_limit = false;
  for (const auto& arg : options->args) {
    size_t eq = arg.find('=');
    std::string key = eq == std::string::npos ? "" : arg.substr(0, eq);
    static const std::vector<std::string> kKeys = {"subject", "resource", "action", "decision", "edge",
                                                   "from",    "to",       "limit"};
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      std::fprintf(stderr, "wardenctl decisions: '%s' is not a filter\n%s", arg.c_str(), kUsage);
      return kExitUsage;
    }
    const std::string value = arg.substr(eq + 1);
    if ((key == "subject" || key == "resource") && value.find(':') == std::string::npos) {
      // Entries are stored by TYPE:ID; a bare id would match nothing, silently.
      std::fprintf(stderr, "wardenctl decisions: %s=%s: give TYPE:ID (e.g. %s=%s:%s)\n", key.c_str(), value.c_str(),
                   key.c_str(), key == "subject" ? "user" : "document", value.c_str());
      return kExitUsage;
    }
    has_limit = has_limit || key == "limit";
    if (key != "limit" && key != "from") filters.append("&").append(key).append("=").append(UrlEncode(arg.substr(eq + 1)));
    query.append(query.empty() ? "?" : "&").append(key).append("=").append(UrlEncode(arg.substr(eq + 1)));
  }
  if (!has_limit) query.append(query.empty() ? "?" : "&").append("limit=20");
  Client client(*options);
  auto answer = client.Send("GET", "/v1/decisions" + query);
  if (!answer.ok()) {
    std::fprintf(stderr, "wardenctl: %s\n", answer.status().message().c_str());
    return kExitUsage;
  }
  if (answer->status != 200) return PrintRefusal(*answer);
  auto page = nlohmann::json::parse(answer->body, nullptr, false);
  if (!page.is_object() || !page.contains("decisions")) {
    std::fprintf(stderr, "wardenctl: the server's answer is not a decision list\n");
    return kExitRefused;
  }
  int64_t newest_id = 0;
  std::vector<std::vector<std::string>> rows;
  // Printed oldest first, so the newest is at the bottom, next to what --follow adds.
  for (auto it = page["decisions"].rbegin(); it != page["decisions"].rend(); ++it) {
    newest_id = std::max<int64_t>(newest_id, it->value("id", int64_t{0}));
    if (options->json) {
      std::printf("%s\n", it->dump().c_str());
    } else {
      rows.push_back(Row(*it));
    }
  }
  std::vector<size_t> widths;
  if (!options->json) {
    std::printf("%zu %s, oldest first%s\n", rows.size(), rows.size() == 1 ? "entry" : "entries",
                options->has_flag("--follow") ? "; following new ones (Ctrl-C to stop)" : "");
    widths = PrintTable(kHeader, rows, kMinWidths);
  }
  std::fflush(stdout);
  if (!options->has_flag("--follow")) return kExitOk;

  // Follow: entries ingested after the newest shown, in ingest order, until interrupted.
  std::string cursor = "a0." + std::to_string(newest_id);
  while (true) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::string target = "/v1/decisions" + filters + "&cursor=" + UrlEncode(cursor);
    auto next = client.Send("GET", target);
    if (!next.ok() || next->status != 200) continue;  // the control plane may be restarting
    auto more = nlohmann::json::parse(next->body, nullptr, false);
    if (!more.is_object() || !more.contains("decisions")) continue;
    for (const auto& entry : more["decisions"]) {
      cursor = "a0." + std::to_string(entry.value("id", int64_t{0}));
      if (options->json) {
        std::printf("%s\n", entry.dump().c_str());
      } else {
        PrintTableRow(widths, Row(entry));
      }
    }
    std::fflush(stdout);
  }
}

}  // namespace warden::ctl
