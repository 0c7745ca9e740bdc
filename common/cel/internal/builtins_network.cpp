// The cel-go network extension (ip(), cidr(), isIP(), ip.isCanonical() and the IP/CIDR methods)
// and the encoders extension (base64.encode/decode).
#include "common/cel/internal/builtins.h"
#include "common/cel/internal/encoding.h"
#include "common/cel/internal/ip.h"

namespace warden::cel::internal {
namespace {

using Args = std::span<const Value>;

Value IpFn(Args a, EvalContext&, const Expr&) {
  if (AsIp(a[0]) != nullptr) return a[0];
  if (a[0].kind() != Kind::kString) return NoOverload("ip", a);
  std::string_view s = a[0].string_value();
  if (s.find('%') != std::string_view::npos) return Err("IP Address with zone value is not allowed");
  auto raw = ParseIp(s, /*fold_mapped=*/false);
  if (!raw) return Err("IP Address '" + std::string(s) + "' parse error during conversion from string");
  auto folded = ParseIp(s);
  if (!raw->v4 && folded->v4 && s.find('.') != std::string_view::npos) {
    return Err("IPv4-mapped IPv6 address is not allowed");
  }
  return MakeIpValue(*folded);
}

Value CidrFn(Args a, EvalContext&, const Expr&) {
  if (AsCidr(a[0]) != nullptr) return a[0];
  if (a[0].kind() != Kind::kString) return NoOverload("cidr", a);
  std::string_view s = a[0].string_value();
  if (s.find('%') != std::string_view::npos) return Err("CIDR with zone value is not allowed");
  auto net = ParseCidr(s);
  if (!net) return Err("network address parse error during conversion from string");
  if (!net->address.v4 && s.find('.') != std::string_view::npos) return Err("IPv4-mapped IPv6 address is not allowed");
  return MakeCidrValue(*net);
}

Value IsIp(Args a, EvalContext&, const Expr&) {
  if (a[0].kind() != Kind::kString) return NoOverload("isIP", a);
  std::string_view s = a[0].string_value();
  auto raw = ParseIp(s, false);
  return Value::Bool(raw.has_value() && s.find('%') == std::string_view::npos);
}

Value IsCanonical(Args a, EvalContext&, const Expr&) {
  if (a[0].kind() != Kind::kString) return NoOverload("ip.isCanonical", a);
  auto ip = ParseIp(a[0].string_value());
  if (!ip) return Err("IP Address '" + std::string(a[0].string_value()) + "' parse error during conversion from string");
  return Value::Bool(ip->ToString() == a[0].string_value());
}

enum class IpTest { kUnspecified, kLoopback, kGlobalUnicast, kLinkLocalMulticast, kLinkLocalUnicast };

template <IpTest T>
Value IpPredicate(Args a, EvalContext&, const Expr&) {
  const IpAddress* ip = AsIp(a[0]);
  if (ip == nullptr) return NoOverload("net.IP method", a);
  const auto& b = ip->bytes;
  bool all_zero = true;
  for (int i = 0; i < (ip->v4 ? 4 : 16); ++i) all_zero &= b[i] == 0;
  if (ip->v4) {
    switch (T) {
      case IpTest::kUnspecified: return Value::Bool(all_zero);
      case IpTest::kLoopback: return Value::Bool(b[0] == 127);
      case IpTest::kLinkLocalMulticast: return Value::Bool(b[0] == 224 && b[1] == 0 && b[2] == 0);
      case IpTest::kLinkLocalUnicast: return Value::Bool(b[0] == 169 && b[1] == 254);
      case IpTest::kGlobalUnicast:
        return Value::Bool(!all_zero && b[0] != 127 && !(b[0] >= 224) && !(b[0] == 169 && b[1] == 254) &&
                           !(b[0] == 255 && b[1] == 255 && b[2] == 255 && b[3] == 255));
    }
  }
  bool loopback = true;
  for (int i = 0; i < 15; ++i) loopback &= b[i] == 0;
  loopback &= b[15] == 1;
  switch (T) {
    case IpTest::kUnspecified: return Value::Bool(all_zero);
    case IpTest::kLoopback: return Value::Bool(loopback);
    case IpTest::kLinkLocalMulticast: return Value::Bool(b[0] == 0xff && (b[1] & 0x0f) == 0x02);
    case IpTest::kLinkLocalUnicast: return Value::Bool(b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
    case IpTest::kGlobalUnicast:
      return Value::Bool(!all_zero && !loopback && b[0] != 0xff && !(b[0] == 0xfe && (b[1] & 0xc0) == 0x80));
  }
  return Value::Bool(false);
}

Value Family(Args a, EvalContext&, const Expr&) {
  const IpAddress* ip = AsIp(a[0]);
  if (ip == nullptr) return NoOverload("family", a);
  return Value::Int(ip->v4 ? 4 : 6);
}

Value ContainsIp(Args a, EvalContext&, const Expr&) {
  const IpNetwork* net = AsCidr(a[0]);
  if (net == nullptr) return NoOverload("containsIP", a);
  std::optional<IpAddress> ip;
  if (const IpAddress* p = AsIp(a[1])) ip = *p;
  else if (a[1].kind() == Kind::kString) ip = ParseIp(a[1].string_value());
  if (!ip) return NoOverload("containsIP", a);
  return Value::Bool(net->Masked().Contains(*ip));
}

Value ContainsCidr(Args a, EvalContext&, const Expr&) {
  const IpNetwork* net = AsCidr(a[0]);
  if (net == nullptr) return NoOverload("containsCIDR", a);
  std::optional<IpNetwork> other;
  if (const IpNetwork* p = AsCidr(a[1])) other = *p;
  else if (a[1].kind() == Kind::kString) other = ParseCidr(a[1].string_value());
  if (!other) return NoOverload("containsCIDR", a);
  return Value::Bool(other->prefix >= net->prefix && net->Masked().Contains(other->address));
}

Value CidrIp(Args a, EvalContext&, const Expr&) {
  const IpNetwork* net = AsCidr(a[0]);
  if (net == nullptr) return NoOverload("ip", a);
  return MakeIpValue(net->Masked().address);
}

Value Masked(Args a, EvalContext&, const Expr&) {
  const IpNetwork* net = AsCidr(a[0]);
  if (net == nullptr) return NoOverload("masked", a);
  return MakeCidrValue(net->Masked());
}

Value PrefixLength(Args a, EvalContext&, const Expr&) {
  const IpNetwork* net = AsCidr(a[0]);
  if (net == nullptr) return NoOverload("prefixLength", a);
  return Value::Int(net->prefix);
}

Value Base64Encode(Args a, EvalContext&, const Expr&) {
  if (a[0].kind() != Kind::kBytes) return NoOverload("base64.encode", a);
  return Value::String(internal::Base64Encode(a[0].string_value()));
}

Value Base64Decode(Args a, EvalContext&, const Expr&) {
  if (a[0].kind() != Kind::kString) return NoOverload("base64.decode", a);
  auto d = internal::Base64Decode(a[0].string_value());
  if (!d) return Err("base64.decode: illegal base64 data");
  return Value::Bytes(std::move(*d));
}

}  // namespace

void RegisterNetworkBuiltins(std::vector<Builtin>& out) {
  out.push_back({"ip", true, false, 1, 1, IpFn});
  out.push_back({"cidr", true, false, 1, 1, CidrFn});
  out.push_back({"isIP", true, false, 1, 1, IsIp});
  out.push_back({"ip.isCanonical", true, false, 1, 1, IsCanonical});
  out.push_back({"family", false, true, 1, 1, Family});
  out.push_back({"isUnspecified", false, true, 1, 1, IpPredicate<IpTest::kUnspecified>});
  out.push_back({"isLoopback", false, true, 1, 1, IpPredicate<IpTest::kLoopback>});
  out.push_back({"isGlobalUnicast", false, true, 1, 1, IpPredicate<IpTest::kGlobalUnicast>});
  out.push_back({"isLinkLocalMulticast", false, true, 1, 1, IpPredicate<IpTest::kLinkLocalMulticast>});
  out.push_back({"isLinkLocalUnicast", false, true, 1, 1, IpPredicate<IpTest::kLinkLocalUnicast>});
  out.push_back({"containsIP", false, true, 2, 2, ContainsIp});
  out.push_back({"containsCIDR", false, true, 2, 2, ContainsCidr});
  out.push_back({"ip", false, true, 1, 1, CidrIp});
  out.push_back({"masked", false, true, 1, 1, Masked});
  out.push_back({"prefixLength", false, true, 1, 1, PrefixLength});
  out.push_back({"base64.encode", true, false, 1, 1, Base64Encode});
  out.push_back({"base64.decode", true, false, 1, 1, Base64Decode});
}

}  // namespace warden::cel::internal
