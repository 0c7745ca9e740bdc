// wardenctl push DIR [--prune] and wardenctl import FILE.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
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
  return client.Call("POST", "/v1/push", &body, PrintWrite);
}

int ImportCommand(const std::vector<std::string>& args) {
  auto options = ParseRemoteOptions("import", args);
  if (!options) return kExitUsage;
  if (options->args.size() != 1) {
    std::fprintf(stderr, "usage: wardenctl import FILE.jsonl [--url URL] [--token TOKEN] [--json]\n");
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
  bool show_progress = !options->json && isatty(STDERR_FILENO);
  Progress progress;
  if (show_progress) {
    progress = [](size_t sent, size_t total) {
      constexpr int kWidth = 30;
      int filled = total ? static_cast<int>(kWidth * sent / total) : kWidth;
      std::fprintf(stderr, "\rimport: [%s%s] %3d%% %.1f/%.1f MB", std::string(filled, '#').c_str(),
                   std::string(kWidth - filled, ' ').c_str(), total ? static_cast<int>(100 * sent / total) : 100,
                   sent / 1e6, total / 1e6);
      if (sent >= total) std::fprintf(stderr, "\nimport: uploaded; validating and committing...\n");
      std::fflush(stderr);
    };
  }
  Client client(*options);
  auto answer = client.Send("POST", "/v1/import", *text, "application/x-ndjson", progress);
  if (!answer.ok()) {
    std::fprintf(stderr, "wardenctl: %s\n", answer.status().message().c_str());
    return kExitUsage;
  }
  if (answer->status < 200 || answer->status >= 300) return PrintRefusal(*answer);
  auto json = nlohmann::json::parse(answer->body, nullptr, false);
  if (options->json) {
    std::printf("%s\n", json.dump().c_str());
  } else {
    std::printf("imported %llu rows at revision %llu\n", static_cast<unsigned long long>(json.value("rows", uint64_t{0})),
                static_cast<unsigned long long>(json.value("revision", uint64_t{0})));
  }
  return kExitOk;
}

}  // namespace warden::ctl
