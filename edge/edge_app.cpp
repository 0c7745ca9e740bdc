#include "edge/edge_app.h"

#include <nlohmann/json.hpp>

#include "common/http/json.h"
#include "common/http/server_config.h"
#include "common/http/standard_routes.h"

namespace warden::edge {

Result<std::unique_ptr<EdgeApp>> EdgeApp::Create(const config::Options& options) {
  auto server_options = http::ServerOptionsFrom(options);
  if (!server_options.ok()) return server_options.status();
  std::unique_ptr<EdgeApp> app(new EdgeApp());
  app->host_ = server_options->host;
  app->router_ = std::make_unique<http::Router>(app->registry_);
  EdgeApp* self = app.get();
  http::AddStandardRoutes(*app->router_, [self] { return self->NotReadyReason(); });
  // The do-nothing endpoint: what the HTTP layer alone costs, the ceiling checks are compared with.
  app->router_->Add(http::Method::kGet, "/v1/ping", [](http::Request&) {
    http::Response response;
    response.body = "{}";
    return response;
  });
  app->router_->Add(http::Method::kGet, "/v1/status", [self](http::Request&) {
    std::string reason = self->NotReadyReason();
    return http::JsonResponse({{"ready", reason.empty()}, {"reason", reason}, {"mode", "standalone"}});
  });
  app->server_ = std::make_unique<http::Server>(std::move(*server_options), *app->router_);
  return app;
}

std::string EdgeApp::NotReadyReason() const { return "no snapshot loaded"; }

}  // namespace warden::edge
