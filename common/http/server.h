// Server: Warden's HTTP/1.1 server, shared by the edge and the control plane.
//
// One listener accepts connections and gives each to a session coroutine that reads a request,
// runs the matched handler, writes the response, and reads the next: keep-alive and pipelined
// requests are answered in order. Limits and timeouts are set on the parser and the stream, so a
// slow or hostile client costs one idle coroutine and is cut off, never a thread.
//
// Stop() is graceful: the listener closes, idle connections are closed, requests already being
// read or handled finish and are answered (with `Connection: close`), then the workers exit.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/http/router.h"
#include "common/util/status.h"

namespace warden::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: an ephemeral port, see Server::port()
  int threads = 1;
  size_t max_header_bytes = 16 * 1024;     // larger headers get 431
  size_t max_body_bytes = 4 * 1024 * 1024;  // larger bodies get 413
  size_t max_connections = 10'000;          // beyond this, new connections get 503 and are closed
  int max_json_depth = 128;                 // deeper JSON bodies get 400 (ParseJsonBody)
  // Time allowed to receive one whole request once its first byte arrived (slowloris bound).
  std::chrono::milliseconds read_timeout{10'000};
  // Time a keep-alive connection may wait for its next request.
  std::chrono::milliseconds idle_timeout{60'000};
  // How long Stop() waits for in-flight requests before closing what is left.
  std::chrono::milliseconds shutdown_grace{10'000};
  // TLS: when both are set, every connection speaks TLS 1.2+ only.
  std::string tls_cert_file;
  std::string tls_key_file;
  // When set with TLS, clients must present a certificate signed by this CA (mutual TLS).
  std::string tls_client_ca_file;
  bool access_log = false;  // one structured line per request through spdlog's "access" logger
  std::string server_header = "warden";
};

class Server {
 public:
  // `router` must outlive the server and not change once Start() is called.
  Server(ServerOptions options, const Router& router);
  ~Server();  // stops if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, listens and starts the worker threads. Fails with a Status naming the address when the
  // port cannot be bound or the TLS files cannot be loaded.
  Status Start();
  // The bound port (useful with port 0). REQUIRES: Start() succeeded.
  uint16_t port() const;
  // Whether connections speak TLS (both certificate options were set).
  bool tls() const;
  // Reads the certificate, key and client CA files again (after a rotation, on SIGHUP); new
  // connections use them, open ones keep theirs. On error the old ones stay in use and the
  // Status names the file.
  Status ReloadTls();
  // Requests waiting in Response::Later() ask their ready() again now. Call it after whatever
  // they wait for changed (the edge calls it on every snapshot published); without it they are
  // answered only at their deadline. Thread-safe; cheap when nothing waits.
  void WakeWaitingRequests();
  // Graceful stop as described above; safe to call more than once and from any thread but a worker.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::http
