// The listener settings every Warden server shares, declared once for its Options table.
#pragma once

#include <string>

#include "common/config/options.h"
#include "common/http/server.h"

namespace warden::http {

// Declares listen, threads, max-body, max-header, max-connections, max-json-depth, read-timeout, idle-timeout,
// shutdown-grace, tls-cert, tls-key, tls-client-ca and access-log.
void AddServerOptions(config::Options& options, const std::string& default_listen);

// Reads them back; `listen` must be HOST:PORT (port 0 for an ephemeral port).
Result<ServerOptions> ServerOptionsFrom(const config::Options& options);

}  // namespace warden::http
