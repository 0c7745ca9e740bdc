// The listener settings every Warden server shares, declared once for its Options table.
#pragma once

#include <string>

#include "common/config/options.h"
#include "common/http/server.h"

namespace warden::http {

// The defaults that differ between servers; --help prints these, so they are the ones used.
struct ServerDefaults {
  std::string listen;            // HOST:PORT
  int threads = 1;               // worker threads
  std::string max_body = "4MiB";  // largest request body, in the option's syntax
};

// Declares listen, threads, max-body, max-header, max-connections, max-json-depth, read-timeout, idle-timeout,
// shutdown-grace, tls-cert, tls-key, tls-client-ca and access-log.
void AddServerOptions(config::Options& options, const ServerDefaults& defaults);

// Reads them back; `listen` must be HOST:PORT (port 0 for an ephemeral port).
Result<ServerOptions> ServerOptionsFrom(const config::Options& options);

}  // namespace warden::http
