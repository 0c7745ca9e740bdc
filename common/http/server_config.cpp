#include "common/http/server_config.h"

#include <charconv>

namespace warden::http {

using config::OptionType;

void AddServerOptions(config::Options& options, const ServerDefaults& defaults) {
  options.Add("listen", OptionType::kString, defaults.listen, "HOST:PORT to serve HTTP on (port 0: any free port)");
  options.Add("threads", OptionType::kInt, std::to_string(defaults.threads), "worker threads serving requests");
  options.Add("max-body", OptionType::kBytes, defaults.max_body, "largest request body accepted (larger: 413)");
  options.Add("max-header", OptionType::kBytes, "16KiB", "largest request header block accepted (larger: 431)");
  options.Add("max-connections", OptionType::kInt, "10000", "open connections beyond which new ones get 503");
  options.Add("max-json-depth", OptionType::kInt, "128", "deepest nesting of a JSON request body (deeper: 400)");
  options.Add("read-timeout", OptionType::kDuration, "10s", "time to receive a whole request once it starts");
  options.Add("idle-timeout", OptionType::kDuration, "60s", "time a keep-alive connection may sit idle");
  options.Add("shutdown-grace", OptionType::kDuration, "10s", "time in-flight requests get to finish on SIGTERM");
  options.Add("tls-cert", OptionType::kString, "", "PEM certificate chain; with --tls-key, serve HTTPS only");
  options.Add("tls-key", OptionType::kString, "", "PEM private key for --tls-cert");
  options.Add("tls-client-ca", OptionType::kString, "", "PEM CA bundle; when set, clients need a certificate it signed");
  options.Add("access-log", OptionType::kBool, "false", "log one line per request");
}

Result<ServerOptions> ServerOptionsFrom(const config::Options& options) {
  ServerOptions server;
  const std::string& listen = options.GetString("listen");
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("option 'listen': '" + listen + "' is not HOST:PORT");
  }
  server.host = listen.substr(0, colon);
  if (server.host.size() > 2 && server.host.front() == '[' && server.host.back() == ']') {
    server.host = server.host.substr(1, server.host.size() - 2);
  }
  unsigned port = 0;
  auto port_text = std::string_view(listen).substr(colon + 1);
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return Status::InvalidArgument("option 'listen': '" + std::string(port_text) + "' is not a port number");
  }
  server.port = static_cast<uint16_t>(port);
  int64_t threads = options.GetInt("threads");
  if (threads < 1 || threads > 256) return Status::InvalidArgument("option 'threads' must be between 1 and 256");
  server.threads = static_cast<int>(threads);
  server.max_body_bytes = options.GetBytes("max-body");
  server.max_header_bytes = options.GetBytes("max-header");
  if (server.max_header_bytes > 0xffffffffull) return Status::InvalidArgument("option 'max-header' is too large");
  int64_t connections = options.GetInt("max-connections");
  if (connections < 1) return Status::InvalidArgument("option 'max-connections' must be at least 1");
  server.max_connections = static_cast<size_t>(connections);
  // Values built from a body (CEL maps, policy attributes) are walked recursively; beyond this a
  // body could exhaust a worker's stack.
  constexpr int64_t kHighestJsonDepth = 1000;
  int64_t json_depth = options.GetInt("max-json-depth");
  if (json_depth < 1 || json_depth > kHighestJsonDepth) {
    return Status::InvalidArgument("option 'max-json-depth' must be between 1 and " + std::to_string(kHighestJsonDepth));
  }
  server.max_json_depth = static_cast<int>(json_depth);
  server.read_timeout = options.GetDuration("read-timeout");
  server.idle_timeout = options.GetDuration("idle-timeout");
  server.shutdown_grace = options.GetDuration("shutdown-grace");
  server.tls_cert_file = options.GetString("tls-cert");
  server.tls_key_file = options.GetString("tls-key");
  server.tls_client_ca_file = options.GetString("tls-client-ca");
  if (server.tls_cert_file.empty() != server.tls_key_file.empty()) {
    return Status::InvalidArgument(server.tls_cert_file.empty() ? "option 'tls-key' needs --tls-cert"
                                                                : "option 'tls-cert' needs --tls-key");
  }
  if (!server.tls_client_ca_file.empty() && server.tls_cert_file.empty()) {
    return Status::InvalidArgument("option 'tls-client-ca' needs --tls-cert and --tls-key (client certificates are a TLS feature)");
  }
  server.access_log = options.GetBool("access-log");
  return server;
}

}  // namespace warden::http
