// Constants of the sync protocol (docs/sync-protocol.md), shared by the hub and the edge.
#pragma once

#include <cstdint>
#include <string_view>

namespace warden::protocol {

// The protocol version this build speaks best, and the oldest it still speaks. The hub speaks
// the current and the previous version so it can be upgraded before its edges.
inline constexpr int kProtocolVersion = 1;
inline constexpr int kOldestProtocolVersion = 1;
// What this build's engines can evaluate; sent in hello so the hub can show it per edge.
inline constexpr int kEngineFeatureLevel = 1;

// WebSocket close codes the hub uses with its `error` messages.
inline constexpr uint16_t kCloseBadMessage = 4400;
inline constexpr uint16_t kCloseKeyRevoked = 4401;
inline constexpr uint16_t kCloseHeartbeatTimeout = 4408;
inline constexpr uint16_t kCloseUnsupportedProtocol = 4426;
inline constexpr uint16_t kCloseGoingAway = 1001;

// Revisions whose ops exceed this many bytes of JSON travel as rev_begin/rev_part/rev_commit;
// snapshots travel in chunks of about this size.
inline constexpr size_t kMaxMessagePayload = 1 << 20;
// The largest message either end accepts.
inline constexpr size_t kMaxIncomingMessage = 16 << 20;

}  // namespace warden::protocol
