// EdgeApp: the edge authorizer assembled: its routes, its server, and the snapshot it decides from.
#pragma once

#include <memory>

#include "common/config/options.h"
#include "common/http/router.h"
#include "common/http/server.h"
#include "common/metrics/registry.h"

namespace warden::edge {

class EdgeApp {
 public:
  // Builds the app from parsed options; fails with a Status naming a bad option.
  static Result<std::unique_ptr<EdgeApp>> Create(const config::Options& options);

  http::Server& server() { return *server_; }
  const std::string& host() const { return host_; }
  // Why the edge cannot answer checks yet ("" when it can); /readyz reports it.
  std::string NotReadyReason() const;

 private:
  EdgeApp() = default;

  metrics::Registry registry_;
  std::unique_ptr<http::Router> router_;
  std::unique_ptr<http::Server> server_;
  std::string host_;
};

}  // namespace warden::edge
