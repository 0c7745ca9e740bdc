#include "control-plane/control_plane_app.h"

#include "common/http/server_config.h"
#include "common/http/standard_routes.h"

namespace warden::control_plane {

void AddControlPlaneOptions(config::Options& options) {
  http::AddServerOptions(options, "127.0.0.1:8484");
}

Result<std::unique_ptr<ControlPlaneApp>> ControlPlaneApp::Create(const config::Options& options) {
  auto server_options = http::ServerOptionsFrom(options);
  if (!server_options.ok()) return server_options.status();
  std::unique_ptr<ControlPlaneApp> app(new ControlPlaneApp());
  app->host_ = server_options->host;
  app->router_ = std::make_unique<http::Router>(app->registry_);
  http::AddStandardRoutes(*app->router_, [] { return std::string(); });
  app->server_ = std::make_unique<http::Server>(std::move(*server_options), *app->router_);
  return app;
}

}  // namespace warden::control_plane
