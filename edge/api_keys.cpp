#include "edge/api_keys.h"

#include <openssl/crypto.h>

#include <fstream>

#include "common/http/json.h"

namespace warden::edge {

namespace {

constexpr size_t kShortestKey = 16;

std::string Trimmed(std::string text) {
  const char* space = " \t\r\n";
  text.erase(0, text.find_first_not_of(space));
  text.erase(text.find_last_not_of(space) + 1);
  return text;
}

std::string_view PresentedKey(const http::Request& request) {
  std::string_view authorization = request.header("Authorization");
  for (std::string_view scheme : {"Bearer ", "bearer ", "Basic ", "basic "}) {
    if (authorization.substr(0, scheme.size()) == scheme) return authorization.substr(scheme.size());
  }
  return request.header("X-API-Key");
}

}  // namespace

Result<ApiKeys> ApiKeys::Load(const std::string& key, const std::string& file) {
  ApiKeys keys;
  if (!key.empty()) keys.keys_.push_back(Trimmed(key));
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return Status::InvalidArgument("option 'api-key-file': cannot read '" + file + "'");
    std::string line;
    size_t before = keys.keys_.size();
    while (std::getline(in, line)) {
      line = Trimmed(line);
      if (line.empty() || line[0] == '#') continue;
      keys.keys_.push_back(line);
    }
    if (keys.keys_.size() == before) return Status::InvalidArgument("option 'api-key-file': '" + file + "' holds no key");
  }
  for (const auto& each : keys.keys_) {
    if (each.size() < kShortestKey) {
      return Status::InvalidArgument("options 'api-key' and 'api-key-file': a key is shorter than " +
                                     std::to_string(kShortestKey) + " bytes; use a random one (openssl rand -hex 32)");
    }
  }
  return keys;
}

std::optional<http::Response> ApiKeys::Check(const http::Request& request) const {
  const std::string_view path = request.path();
  if (path == "/healthz" || path == "/readyz") return std::nullopt;
  const std::string_view presented = PresentedKey(request);
  bool matched = false;
  // Every key is compared, matched or not, so the time taken says nothing about which one is close.
  for (const auto& key : keys_) {
    matched |= key.size() == presented.size() && CRYPTO_memcmp(key.data(), presented.data(), key.size()) == 0;
  }
  if (matched) return std::nullopt;
  http::Response refusal = http::ErrorResponse(
      401, "unauthenticated",
      presented.empty() ? "this edge requires an API key: send 'Authorization: Bearer KEY' or 'X-API-Key: KEY'"
                        : "the API key is not one this edge accepts");
  refusal.with_header("WWW-Authenticate", "Bearer");
  return refusal;
}

}  // namespace warden::edge
