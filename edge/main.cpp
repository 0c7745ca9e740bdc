// warden-edge: the authorizer that runs beside each application instance.
#include "common/http/daemon.h"
#include "common/util/signals.h"
#include "edge/edge_app.h"
#include "edge/edge_options.h"

#include <cstdio>

int main(int argc, char** argv) {
  warden::BlockTerminationSignals();
  warden::config::Options options("warden-edge",
                                  "Answers authorization checks from a local snapshot of policies and directory data.");
  warden::edge::AddEdgeOptions(options);
  if (auto exit_code = warden::http::ParseCommandLineOrExit(options, argc, argv)) return *exit_code;
  auto app = warden::edge::EdgeApp::Create(options);
  if (!app.ok()) {
    std::fprintf(stderr, "warden-edge: %s\n", app.status().message().c_str());
    return 2;
  }
  auto& edge = **app;
  warden::http::DaemonHooks hooks;
  hooks.on_started = [&edge] { edge.StartFollowing(); };
  hooks.on_reload = [&edge] { edge.Reload(); };
  return warden::http::RunUntilSignalled("warden-edge", edge.host(), edge.server(), hooks);
}
