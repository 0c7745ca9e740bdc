#include "common/http/daemon.h"

#include <cstdio>
#include <iostream>

#include <spdlog/spdlog.h>

#include "common/config/logging.h"
#include "common/util/signals.h"

extern char** environ;

namespace warden::http {

std::optional<int> ParseCommandLineOrExit(config::Options& options, int argc, const char* const* argv) {
  options.Add("log-level", config::OptionType::kString, "info", "trace, debug, info, warn, error or off");
  options.Add("log-format", config::OptionType::kString, "text", "text or json (one object per line)");
  Status parsed = options.Parse(argc, argv, environ);
  if (!parsed.ok()) {
    std::fprintf(stderr, "%s: %s\n", argc > 0 ? argv[0] : "warden", parsed.message().c_str());
    return 2;
  }
  if (options.help_requested()) {
    std::fputs(options.HelpText().c_str(), stdout);
    return 0;
  }
  if (!options.positional().empty()) {
    // A server takes only options: a stray word is a mistake (a forgotten --data, say), not
    // something to start without.
    std::fprintf(stderr, "%s: unexpected argument '%s': options are written --name VALUE; see --help\n",
                 argc > 0 ? argv[0] : "warden", options.positional().front().c_str());
    return 2;
  }
  Status logging = config::ConfigureLogging(options.GetString("log-level"), options.GetString("log-format"));
  if (!logging.ok()) {
    std::fprintf(stderr, "%s: %s\n", argc > 0 ? argv[0] : "warden", logging.message().c_str());
    return 2;
  }
  return std::nullopt;
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

int RunUntilSignalled(const std::string& name, const std::string& host, Server& server, const DaemonHooks& hooks) {
  Status started = server.Start();
  if (!started.ok()) {
    spdlog::critical("{}: {}", name, started.message());
    return 1;
  }
  std::string url_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::printf("%s listening on %s://%s:%u\n", name.c_str(), server.tls() ? "https" : "http", url_host.c_str(),
              server.port());
  if (hooks.on_started) hooks.on_started();
  std::fflush(stdout);
  spdlog::info("{} listening on {}:{}", name, url_host, server.port());
  if (!server.tls() && !IsLoopbackHost(host)) {
    // Tokens, keys and decisions would cross the network in clear: say so where operators look.
    spdlog::warn("{} serves plain HTTP on {}, beyond loopback: bearer tokens, API keys and every request cross the "
                 "network unencrypted. Set --tls-cert and --tls-key (and --tls-client-ca for mutual TLS), or bind "
                 "127.0.0.1 behind a TLS-terminating proxy.",
                 name, host);
  }
  while (true) {
    Signal signal = WaitForSignal();
    if (signal == Signal::kReload) {
      spdlog::info("SIGHUP: reloading");
      if (server.tls()) {
        Status reloaded = server.ReloadTls();
        if (reloaded.ok()) {
          spdlog::info("TLS certificate reloaded");
        } else {
          spdlog::error("TLS certificate not reloaded, the previous one stays in use: {}", reloaded.message());
        }
      }
      if (hooks.on_reload) hooks.on_reload();
      continue;
    }
    break;
  }
  spdlog::info("{} stopping: finishing in-flight requests", name);
  if (hooks.on_stopping) hooks.on_stopping();
  server.Stop();
  if (hooks.before_stop) hooks.before_stop();
  spdlog::info("{} stopped", name);
  return 0;
}

}  // namespace warden::http
