#include "common/cel/internal/ip.h"

#include <arpa/inet.h>

#include <memory>

namespace warden::cel::internal {
namespace {

class IpOpaque final : public OpaqueValue {
 public:
  explicit IpOpaque(IpAddress ip) : ip_(ip) {}
  std::string_view type_name() const override { return "net.IP"; }
  bool Equals(const OpaqueValue& other) const override { return static_cast<const IpOpaque&>(other).ip_ == ip_; }
  std::string DebugString() const override { return ip_.ToString(); }
  const IpAddress& ip() const { return ip_; }

 private:
  IpAddress ip_;
};

class CidrOpaque final : public OpaqueValue {
 public:
  explicit CidrOpaque(IpNetwork net) : net_(net) {}
  std::string_view type_name() const override { return "net.CIDR"; }
  bool Equals(const OpaqueValue& other) const override { return static_cast<const CidrOpaque&>(other).net_ == net_; }
  std::string DebugString() const override { return net_.ToString(); }
  const IpNetwork& net() const { return net_; }

 private:
  IpNetwork net_;
};

}  // namespace

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  if (v4) {
    inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  }
  return buf;
}

std::optional<IpAddress> ParseIp(std::string_view text, bool fold_mapped) {
  if (text.empty() || text.size() > 64 || text.find('%') != std::string_view::npos) return std::nullopt;
  std::string s(text);
  IpAddress ip;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) != 1) return std::nullopt;
    ip.v4 = true;
    return ip;
  }
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) != 1) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (fold_mapped && std::equal(kMapped, kMapped + 12, ip.bytes.begin())) {
    IpAddress v4;
    v4.v4 = true;
    std::copy(ip.bytes.begin() + 12, ip.bytes.end(), v4.bytes.begin());
    return v4;
  }
  return ip;
}

bool IpNetwork::Contains(const IpAddress& ip) const {
  if (ip.v4 != address.v4) return false;
  int full = prefix / 8, rest = prefix % 8;
  for (int i = 0; i < full; ++i) {
    if (ip.bytes[i] != address.bytes[i]) return false;
  }
  if (rest) {
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    if ((ip.bytes[full] & mask) != (address.bytes[full] & mask)) return false;
  }
  return true;
}

IpNetwork IpNetwork::Masked() const {
  IpNetwork out = *this;
  int total = address.v4 ? 4 : 16;
  for (int i = 0; i < total; ++i) {
    int bits = prefix - i * 8;
    uint8_t mask = bits >= 8 ? 0xff : (bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits)));
    out.address.bytes[i] &= mask;
  }
  return out;
}

std::string IpNetwork::ToString() const { return address.ToString() + "/" + std::to_string(prefix); }

std::optional<IpNetwork> ParseCidr(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos || slash + 1 >= text.size()) return std::nullopt;
  auto ip = ParseIp(text.substr(0, slash), /*fold_mapped=*/false);
  if (!ip) return std::nullopt;
  int prefix = 0;
  for (char c : text.substr(slash + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    prefix = prefix * 10 + (c - '0');
    if (prefix > 128) return std::nullopt;
  }
  if (prefix > (ip->v4 ? 32 : 128)) return std::nullopt;
  return IpNetwork{*ip, prefix};
}

Value MakeIpValue(const IpAddress& ip) { return Value::Opaque(std::make_shared<IpOpaque>(ip)); }
Value MakeCidrValue(const IpNetwork& net) { return Value::Opaque(std::make_shared<CidrOpaque>(net)); }

const IpAddress* AsIp(const Value& v) {
  if (v.kind() != Kind::kOpaque || v.opaque_value().type_name() != "net.IP") return nullptr;
  return &static_cast<const IpOpaque&>(v.opaque_value()).ip();
}

const IpNetwork* AsCidr(const Value& v) {
  if (v.kind() != Kind::kOpaque || v.opaque_value().type_name() != "net.CIDR") return nullptr;
  return &static_cast<const CidrOpaque&>(v.opaque_value()).net();
}

}  // namespace warden::cel::internal
