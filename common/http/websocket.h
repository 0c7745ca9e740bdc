// WebSocket endpoints on Warden's HTTP server, without Beast in the application's headers.
//
// A route registered with Router::AddUpgrade() sees the upgrade request first, as a plain
// Request, and either refuses it with an ordinary Response (a 401 before any upgrade, say) or
// accepts it by returning a WebSocketSession. The server then completes the handshake (offering
// permessage-deflate) and drives the session: OnOpen once, OnMessage per text message, OnClose
// once. The session talks back through its WebSocketChannel, which any thread may use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/http/request.h"

namespace warden::http {

// The server's side of one open WebSocket. Thread-safe.
class WebSocketChannel {
 public:
  virtual ~WebSocketChannel() = default;
  // Queues one text message; never blocks. Ignored once the channel is closing.
  virtual void Send(std::string text) = 0;
  // Sends a close frame with `code` and `reason` after what is queued, then ends the connection.
  virtual void Close(uint16_t code, std::string reason) = 0;
  // Bytes queued and not yet written to the socket (what a sender uses for backpressure).
  virtual size_t queued_bytes() const = 0;
  // The peer's address, "host:port".
  virtual const std::string& remote_address() const = 0;
};

// The application's side of one WebSocket. Calls come from the server's threads, one at a time
// for a given session.
class WebSocketSession {
 public:
  virtual ~WebSocketSession() = default;
  virtual void OnOpen(std::shared_ptr<WebSocketChannel> channel) = 0;
  virtual void OnMessage(std::string message) = 0;
  // Everything queued has been written (queued_bytes() reached 0).
  virtual void OnDrained() {}
  // The connection ended (closed by either side, broken, or the server stopping).
  virtual void OnClose() = 0;
};

struct UpgradeDecision {
  // Set to accept; when null, `refusal` is sent as an ordinary HTTP response.
  std::shared_ptr<WebSocketSession> session;
  Response refusal;
};

using UpgradeHandler = std::function<UpgradeDecision(Request&)>;

// Limits of an accepted WebSocket.
struct WebSocketLimits {
  size_t max_message_bytes = 16u << 20;
};

}  // namespace warden::http
