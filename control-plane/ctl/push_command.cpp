// wardenctl push DIR [--prune] and wardenctl import FILE.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/directory/folder_loader.h"
#include "common/snapshot/folder_snapshot.h"
#include "control-plane/ctl/client.h"
#include "control-plane/ctl/commands.h"

namespace warden::ctl {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return std::move(text).str();
}

void PrintWrite(const nlohmann::json& answer) {
  if (answer.value("changed", true)) {
    std::printf("revision %llu\n", static_cast<unsigned long long>(answer.value("revision", uint64_t{0})));
  } else {
    std::printf("revision %llu (nothing changed)\n", static_cast<unsigned long long>(answer.value("revision", uint64_t{0})));
  }
}

// "policies: 1 added, 2 changed, 0 removed; manifest unchanged; objects: 3 set, 0 deleted; ..."
void PrintPushSummary(const nlohmann::json& answer) {
  PrintWrite(answer);
  if (!answer.contains("summary") || !answer["summary"].is_object()) return;
  const auto& summary = answer["summary"];
  auto count = [&](const char* part, const char* what) {
    return summary.contains(part) ? summary[part].value(what, uint64_t{0}) : uint64_t{0};
  };
  std::printf("policies: %llu added, %llu changed, %llu removed; manifest %s; objects: %llu set, %llu deleted; "
              "relations: %llu set, %llu deleted\n",
              static_cast<unsigned long long>(count("policies", "added")),
              static_cast<unsigned long long>(count("policies", "changed")),
              static_cast<unsigned long long>(count("policies", "removed")),
              summary.value("manifest_changed", false) ? "changed" : "unchanged",
              static_cast<unsigned long long>(count("objects", "set")),
              static_cast<unsigned long long>(count("objects", "deleted")),
              static_cast<unsigned long long>(count("relations", "set")),
              static_cast<unsigned long long>(count("relations", "deleted")));
}

// A progress line on stderr while `body` uploads: bytes and lines sent, and the rate. Only on a
// terminal: a pipe or a log gets the summary alone.
Progress TerminalProgress(const char* what, const std::string& body, bool json_output) {
  if (json_output || !isatty(STDERR_FILENO)) return {};
  struct State {
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    size_t counted_to = 0;
    size_t lines = 0;
    size_t total_lines = 0;
  };
  auto state = std::make_shared<State>();
  state->total_lines = static_cast<size_t>(std::count(body.begin(), body.end(), '\n'));
  return [what, &body, state](size_t sent, size_t total) {
    state->lines += static_cast<size_t>(std::count(body.begin() + static_cast<std::ptrdiff_t>(state->counted_to),
                                                   body.begin() + static_cast<std::ptrdiff_t>(sent), '\n'));
    state->counted_to = sent;
    constexpr int kWidth = 30;
    int filled = total ? static_cast<int>(kWidth * sent / total) : kWidth;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - state->started).count();
    std::fprintf(stderr, "\r%s: [%s%s] %3d%% %.1f/%.1f MB, %zu/%zu lines, %.1f MB/s", what,
                 std::string(filled, '#').c_str(), std::string(kWidth - filled, ' ').c_str(),
                 total ? static_cast<int>(100 * sent / total) : 100, sent / 1e6, total / 1e6, state->lines,
                 state->total_lines, seconds > 0 ? sent / 1e6 / seconds : 0.0);
    if (sent >= total) std::fprintf(stderr, "\n%s: uploaded; validating and committing...\n", what);
    std::fflush(stderr);
  };
}

// Topaz's import documents ({"objects": [...], "relations": [...]}, either part optional) as the
// JSON lines /v1/import takes; nullopt when `text` is not one such document (JSON lines, say).
std::optional<std::string> TopazDocumentAsLines(const std::string& text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || text[first] != '{') return std::nullopt;
  auto document = nlohmann::json::parse(text, nullptr, false);
  if (document.is_discarded() || !document.is_object()) return std::nullopt;
  const bool has_objects = document.contains("objects"), has_relations = document.contains("relations");
  if (!has_objects && !has_relations) return std::nullopt;
  std::string lines;
  for (const char* part : {"objects", "relations"}) {
    if (!document.contains(part)) continue;
    if (!document[part].is_array()) return std::nullopt;
    for (const auto& item : document[part]) lines += item.dump() + "\n";
  }
  return lines;
}

}  // namespace

int PushCommand(const std::vector<std::string>& args) {
  auto options = ParseRemoteOptions("push", args, {"--prune"});
  if (!options) return kExitUsage;
  if (options->args.size() != 1) {
    std::fprintf(stderr, "usage: wardenctl push DIR [--prune] [--url URL] [--token TOKEN] [--json]\n");
    return kExitUsage;
  }
  fs::path dir = options->args[0];
  if (!fs::is_directory(dir)) {
    std::fprintf(stderr, "wardenctl push: %s is not a folder\n", dir.c_str());
    return kExitUsage;
  }
  nlohmann::json body = {{"prune", options->has_flag("--prune")}};
  body["policies"] = nlohmann::json::array();
  auto policies = ReadFolderPolicies(dir);
  Status servable = policies.ok() ? CheckFolderServable(dir, *policies) : policies.status();
  if (!servable.ok()) {
    std::fprintf(stderr, "wardenctl push: %s\n", servable.message().c_str());
    return kExitRefused;
  }
  for (const auto& doc : policies->documents) body["policies"].push_back({{"path", doc.path}, {"text", doc.text}});
  auto manifest = directory::ReadFolderManifest(dir);
  if (!manifest.ok()) {
    std::fprintf(stderr, "wardenctl push: %s\n", manifest.status().message().c_str());
    return kExitRefused;
  }
  if (*manifest) {
    bool zed = (*manifest)->format == directory::ManifestSource::Format::kZed;
    body["manifest"] = {{"format", zed ? "zed" : "yaml"}, {"name", (*manifest)->name}, {"text", (*manifest)->text}};
  }
  body["data"] = nlohmann::json::array();
  if (fs::is_directory(dir / "data")) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(dir / "data")) {
      auto ext = entry.path().extension();
      if (entry.is_regular_file() && (ext == ".json" || ext == ".jsonl")) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      auto text = ReadFile(file);
      if (!text) {
        std::fprintf(stderr, "wardenctl push: cannot read %s\n", file.c_str());
        return kExitRefused;
      }
      body["data"].push_back({{"path", fs::relative(file, dir).generic_string()}, {"text", *text}});
    }
  }
  Client client(*options);
  const std::string text = body.dump();
  return client.Call("POST", "/v1/push", text, "application/json", TerminalProgress("push", text, options->json),
                     PrintPushSummary);
}

int ImportCommand(const std::vector<std::string>& args) {
  auto options = ParseRemoteOptions("import", args);
  if (!options) return kExitUsage;
  if (options->args.size() != 1) {
    std::fprintf(stderr, "usage: wardenctl import FILE|- (JSON lines, or a Topaz {\"objects\": [...], \"relations\": [...]} document)\n");
    return kExitUsage;
  }
  std::optional<std::string> text;
  if (options->args[0] == "-") {
    std::ostringstream in;
    in << std::cin.rdbuf();
    text = std::move(in).str();
  } else {
    text = ReadFile(options->args[0]);
  }
  if (!text) {
    std::fprintf(stderr, "wardenctl import: cannot read %s\n", options->args[0].c_str());
    return kExitUsage;
  }
  if (auto lines = TopazDocumentAsLines(*text)) text = std::move(lines);
  Client client(*options);
  return client.Call("POST", "/v1/import", *text, "application/x-ndjson", TerminalProgress("import", *text, options->json),
                     [](const nlohmann::json& json) {
    std::printf("imported %llu rows at revision %llu (%llu objects, %llu relations)\n",
                static_cast<unsigned long long>(json.value("rows", uint64_t{0})),
                static_cast<unsigned long long>(json.value("revision", uint64_t{0})),
                static_cast<unsigned long long>(json.value("objects", uint64_t{0})),
                static_cast<unsigned long long>(json.value("relations", uint64_t{0})));
  });
}

}  // namespace warden::ctl
