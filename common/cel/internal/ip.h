// IP addresses and CIDR ranges for inIPAddrRange() and the cel-go network extension
// (ip(), cidr() and their methods), as opaque values of types net.IP and net.CIDR.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/cel/value.h"

namespace warden::cel::internal {

struct IpAddress {
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4 bytes
  bool v4 = false;
  bool operator==(const IpAddress&) const = default;
  std::string ToString() const;
};

// Parses "192.168.0.1" or "2001:db8::1" (IPv4-mapped IPv6 is folded to IPv4 when
// `fold_mapped`). Zones ("%en0") are rejected.
std::optional<IpAddress> ParseIp(std::string_view text, bool fold_mapped = true);

struct IpNetwork {
  IpAddress address;  // as written (not masked)
  int prefix = 0;
  bool operator==(const IpNetwork&) const = default;
  bool Contains(const IpAddress& ip) const;
  IpNetwork Masked() const;
  std::string ToString() const;
};
std::optional<IpNetwork> ParseCidr(std::string_view text);

// Opaque value wrappers; nullptr when `v` is not of that type.
Value MakeIpValue(const IpAddress& ip);
Value MakeCidrValue(const IpNetwork& net);
const IpAddress* AsIp(const Value& v);
const IpNetwork* AsCidr(const Value& v);

}  // namespace warden::cel::internal
