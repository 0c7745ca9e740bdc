// The life of a Warden server process, shared by warden-edge and warden-control-plane:
// parse options, set up logging, serve, reload on SIGHUP, stop gracefully on SIGINT/SIGTERM.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/config/options.h"
#include "common/http/server.h"

namespace warden::http {

// Parses the command line, environment and config file. Returns an exit code when the process
// should end now: 0 after printing --help, 2 after printing one line naming a bad option. Also
// configures logging from the log-level and log-format options, which it declares.
std::optional<int> ParseCommandLineOrExit(config::Options& options, int argc, const char* const* argv);

struct DaemonHooks {
  std::function<void()> on_started;     // once the server listens (its port is known)
  std::function<void()> on_reload;      // SIGHUP
  // SIGTERM/SIGINT, before the server's graceful stop: ends waits in handlers (long polls) so
  // that the in-flight requests they hold finish now rather than at their timeout.
  std::function<void()> on_stopping;
  std::function<void()> before_stop;    // after the server stopped, before the process exits
};

// Whether `host` (a --listen host) is reachable only from this machine: 127.0.0.0/8, ::1, localhost.
bool IsLoopbackHost(const std::string& host);

// Starts `server`, prints "<name> listening on http://HOST:PORT" on stdout (tests and scripts wait
// for this line), then serves until SIGINT/SIGTERM and stops gracefully. Returns the exit code:
// 0 after a clean stop, 1 when the server could not start. Warns when it serves plain HTTP beyond
// loopback.
// REQUIRES: BlockTerminationSignals() ran before any thread was started.
int RunUntilSignalled(const std::string& name, const std::string& host, Server& server, const DaemonHooks& hooks);

}  // namespace warden::http
