// warden-control-plane: where operators manage policies and the directory.
#include <cstdio>

#include "common/http/daemon.h"
#include "common/util/signals.h"
#include "control-plane/control_plane_app.h"
#include "control-plane/token_command.h"

#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "token") {
    return warden::control_plane::RunTokenCommand(std::vector<std::string>(argv + 2, argv + argc));
  }
  warden::BlockTerminationSignals();
  warden::config::Options options("warden-control-plane",
                                  "Stores policies and directory data and serves them to edges.");
  warden::control_plane::AddControlPlaneOptions(options);
  if (auto exit_code = warden::http::ParseCommandLineOrExit(options, argc, argv)) return *exit_code;
  auto app = warden::control_plane::ControlPlaneApp::Create(options);
  if (!app.ok()) {
    // One line, exit 2: a bad setting, or a database this binary must not touch (newer schema).
    std::fprintf(stderr, "warden-control-plane: %s\n", app.status().message().c_str());
    return 2;
  }
  warden::http::DaemonHooks hooks;
  auto* control_plane = app->get();
  hooks.on_reload = [control_plane] { control_plane->Reload(); };
  hooks.on_stopping = [control_plane] { control_plane->ReleaseWaiters(); };
  return warden::http::RunUntilSignalled("warden-control-plane", control_plane->host(), control_plane->server(), hooks);
}
