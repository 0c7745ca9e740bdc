// ControlPlaneApp: the control plane assembled: its routes and its server.
#pragma once

#include <memory>

#include "common/config/options.h"
#include "common/http/router.h"
#include "common/http/server.h"
#include "common/metrics/registry.h"

namespace warden::control_plane {

void AddControlPlaneOptions(config::Options& options);

class ControlPlaneApp {
 public:
  static Result<std::unique_ptr<ControlPlaneApp>> Create(const config::Options& options);

  http::Server& server() { return *server_; }
  const std::string& host() const { return host_; }

 private:
  ControlPlaneApp() = default;

  metrics::Registry registry_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::Server> server_;
  std::string host_;
};

}  // namespace warden::control_plane
