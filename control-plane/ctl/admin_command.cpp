// wardenctl keys, tokens, edges, revision, backup FILE and restore FILE --db DB.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "control-plane/ctl/client.h"
#include "control-plane/ctl/commands.h"
#include "control-plane/store/schema.h"
#include "common/store/sqlite.h"
#include "control-plane/store/store.h"

namespace warden::ctl {
namespace {

namespace fs = std::filesystem;

// Says so when `name` now names more than one key or token: allowed (an edge group holds several
// keys while it rotates), but a second one by mistake should not pass unnoticed.
void NoteSameName(const Client& client, const std::string& list_path, const char* list_key, const std::string& name,
                  const char* what) {
  auto answer = client.Send("GET", list_path);
  if (!answer.ok() || answer->status != 200) return;
  auto listed = nlohmann::json::parse(answer->body, nullptr, false);
  if (!listed.is_object() || !listed.contains(list_key)) return;
  size_t same = 0;
  for (const auto& item : listed[list_key]) same += item.value("name", std::string()) == name ? 1 : 0;
  if (same > 1) {
    std::fprintf(stderr, "note: %zu %ss are now named '%s'%s\n", same, what, name.c_str(),
                 std::string(what) == "key" ? " (one edge group; revoke the old key once its edges use the new one)"
                                            : "");
  }
}

}  // namespace

int KeysCommand(const std::vector<std::string>& args) {
  auto options = ParseRemoteOptions("keys", args);
  if (!options) return kExitUsage;
  const auto& a = options->args;
  Client client(*options);
  if (a.size() == 2 && a[0] == "create") {
    nlohmann::json body = {{"name", a[1]}};
    int code = client.Call("POST", "/v1/keys", &body, [](const nlohmann::json& j) {
      std::printf("id   %s\nname %s\nkey  %s\n(the key is shown only now; store it in the edge's configuration)\n",
                  j["id"].get<std::string>().c_str(), j["name"].get<std::string>().c_str(),
                  j["key"].get<std::string>().c_str());
    });
    if (code == kExitOk) NoteSameName(client, "/v1/keys", "keys", a[1], "key");
    return code;
  }
  if (a.size() == 1 && a[0] == "list") {
    return client.Call("GET", "/v1/keys", nullptr, [](const nlohmann::json& j) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& k : j["keys"]) rows.push_back({k["id"], k["name"], k["created"]});
      PrintTable({"ID", "NAME", "CREATED"}, rows);
    });
  }
  if (a.size() == 2 && a[0] == "revoke") {
    return client.Call("DELETE", "/v1/keys/" + UrlEncode(a[1]), nullptr,
                       [&](const nlohmann::json&) { std::printf("revoked %s\n", a[1].c_str()); });
  }
  std::fputs("usage: wardenctl keys create NAME | keys list | keys revoke ID\n", stderr);
  return kExitUsage;
}

int TokensCommand(const std::vector<std::string>& args) {
  auto options = ParseRemoteOptions("tokens", args);
  if (!options) return kExitUsage;
  const auto& a = options->args;
  Client client(*options);
  if (a.size() == 3 && a[0] == "create") {
    nlohmann::json body = {{"name", a[1]}, {"scope", a[2]}};
    int code = client.Call("POST", "/v1/tokens", &body, [](const nlohmann::json& j) {
      std::printf("id    %s\nscope %s\ntoken %s\n(the token is shown only now)\n", j["id"].get<std::string>().c_str(),
                  j["scope"].get<std::string>().c_str(), j["token"].get<std::string>().c_str());
    });
    if (code == kExitOk) NoteSameName(client, "/v1/tokens", "tokens", a[1], "token");
    return code;
  }
  if (a.size() == 1 && a[0] == "list") {
    return client.Call("GET", "/v1/tokens", nullptr, [](const nlohmann::json& j) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& t : j["tokens"]) rows.push_back({t["id"], t["name"], t["scope"], t["created"]});
      PrintTable({"ID", "NAME", "SCOPE", "CREATED"}, rows);
    });
  }
  if (a.size() == 2 && a[0] == "revoke") {
    return client.Call("DELETE", "/v1/tokens/" + UrlEncode(a[1]), nullptr,
                       [&](const nlohmann::json&) { std::printf("revoked %s\n", a[1].c_str()); });
  }
  std::fputs("usage: wardenctl tokens create NAME read|write | tokens list | tokens revoke ID\n", stderr);
  return kExitUsage;
}

int EdgesCommand(const std::vector<std::string>& args) {
  auto options = ParseRemoteOptions("edges", args);
  if (!options) return kExitUsage;
  if (!options->args.empty()) {
    std::fputs("usage: wardenctl edges [--json]\n", stderr);
    return kExitUsage;
  }
  Client client(*options);
  return client.Call("GET", "/v1/edges", nullptr, [](const nlohmann::json& j) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : j["edges"]) {
      std::string state = e.value("state", "");
      if (e.contains("error")) state += " (" + e["error"].get<std::string>() + ")";
      // Decision-log entries this edge reported lost: dropped at a bound, or in a damaged spool.
      std::string logs_lost = "0";
      if (e.contains("decision_log") && e["decision_log"].is_object()) {
        const auto& lost = e["decision_log"];
        logs_lost = std::to_string(lost.value("dropped", uint64_t{0}) + lost.value("damaged", uint64_t{0}));
      }
      rows.push_back({e["instance"], e.value("key", e.value("key_id", "")), e["address"], e["version"],
                      U64Cell(e, "revision"), U64Cell(e, "lag"), state, logs_lost, e["last_seen"]});
    }
    PrintTable({"INSTANCE", "KEY", "ADDRESS", "VERSION", "REVISION", "LAG", "STATE", "LOGS LOST", "LAST SEEN"}, rows);
  });
}

int RevisionCommand(const std::vector<std::string>& args) {
  auto options = ParseRemoteOptions("revision", args);
  if (!options) return kExitUsage;
  if (!options->args.empty()) {
    std::fputs("usage: wardenctl revision [--json]\n", stderr);
    return kExitUsage;
  }
  Client client(*options);
  return client.Call("GET", "/v1/revision", nullptr, [](const nlohmann::json& j) {
    std::printf("revision %s\nstore_id %s\n", U64Cell(j, "revision").c_str(), j["store_id"].get<std::string>().c_str());
  });
}

int BackupCommand(const std::vector<std::string>& args) {
  auto options = ParseRemoteOptions("backup", args);
  if (!options) return kExitUsage;
  if (options->args.size() != 1) {
    std::fputs("usage: wardenctl backup FILE (a consistent copy of the store's database)\n", stderr);
    return kExitUsage;
  }
  const std::string& file = options->args[0];
  if (fs::exists(file)) {
    std::fprintf(stderr, "wardenctl backup: %s already exists; name a new file\n", file.c_str());
    return kExitUsage;
  }
  Client client(*options);
  auto answer = client.Send("GET", "/v1/backup");
  if (!answer.ok()) {
    std::fprintf(stderr, "wardenctl: %s\n", answer.status().message().c_str());
    return kExitUsage;
  }
  if (answer->status != 200) return PrintRefusal(*answer);
  std::string tmp = file + ".partial";
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(answer->body.data(), static_cast<std::streamsize>(answer->body.size()));
    out.flush();
    if (!out) {
      std::fprintf(stderr, "wardenctl backup: cannot write %s\n", tmp.c_str());
      return kExitRefused;
    }
  }
  fs::rename(tmp, file);
  if (options->json) {
    std::printf("%s\n", nlohmann::json{{"file", file}, {"bytes", answer->body.size()}}.dump().c_str());
  } else {
    std::printf("wrote %s (%zu bytes)\n", file.c_str(), answer->body.size());
  }
  return kExitOk;
}

// Offline: the control plane must be stopped. The backup is checked (it opens as a store, and
// is migrated if older), the current database is kept beside as DB.pre-restore-<time>.bak, and
// the backup takes its place.
int RestoreCommand(const std::vector<std::string>& args) {
  std::vector<std::string> rest;
  std::string db;
  bool json = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--db" && i + 1 < args.size()) {
      db = args[++i];
    } else if (args[i].rfind("--db=", 0) == 0) {
      db = args[i].substr(5);
    } else if (args[i] == "--json") {
      json = true;
    } else {
      rest.push_back(args[i]);
    }
  }
  if (rest.size() != 1 || db.empty()) {
    std::fputs("usage: wardenctl restore FILE --db DB   (with the control plane stopped)\n", stderr);
    return kExitUsage;
  }
  const std::string& file = rest[0];
  if (!fs::is_regular_file(file)) {
    std::fprintf(stderr, "wardenctl restore: %s is not a file\n", file.c_str());
    return kExitUsage;
  }
  if (fs::exists(db)) {
    // Leaving WAL mode needs the only connection; it fails while a control plane holds the file.
    auto live = sqlite::Database::Open(db, false);
    if (!live.ok() || !live->Exec("PRAGMA busy_timeout=0; PRAGMA journal_mode=DELETE").ok()) {
      std::fprintf(stderr, "wardenctl restore: %s is in use; stop the control plane first\n", db.c_str());
      return kExitRefused;
    }
  }
  std::string staged = db + ".restoring";
  std::error_code ec;
  fs::remove(staged, ec);
  fs::copy_file(file, staged, ec);
  if (ec) {
    std::fprintf(stderr, "wardenctl restore: cannot copy %s: %s\n", file.c_str(), ec.message().c_str());
    return kExitRefused;
  }
  std::string store_id;
  uint64_t revision = 0;
  {
    auto store = control_plane::Store::Open(staged);
    if (!store.ok()) {
      std::fprintf(stderr, "wardenctl restore: %s is not a usable store: %s\n", file.c_str(),
                   store.status().message().c_str());
      fs::remove(staged, ec);
      return kExitRefused;
    }
    auto snapshot = (*store)->LoadSnapshot();
    if (!snapshot.ok()) {
      std::fprintf(stderr, "wardenctl restore: %s does not load: %s\n", file.c_str(), snapshot.status().message().c_str());
      fs::remove(staged, ec);
      return kExitRefused;
    }
    store_id = (*store)->store_id();
    revision = (*store)->revision();
  }
  std::string kept;
  if (fs::exists(db)) {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
    kept = db + ".pre-restore-" + std::to_string(now.count()) + ".bak";
    fs::rename(db, kept);
  }
  fs::remove(db + "-wal", ec);
  fs::remove(db + "-shm", ec);
  fs::remove(staged + "-wal", ec);
  fs::remove(staged + "-shm", ec);
  fs::rename(staged, db);
  if (json) {
    std::printf("%s\n",
                nlohmann::json{{"db", db}, {"store_id", store_id}, {"revision", revision}, {"previous", kept}}.dump().c_str());
  } else {
    std::printf("restored %s: store %s at revision %llu%s\n", db.c_str(), store_id.c_str(),
                static_cast<unsigned long long>(revision), kept.empty() ? "" : (" (previous database kept as " + kept + ")").c_str());
  }
  return kExitOk;
}

}  // namespace warden::ctl
