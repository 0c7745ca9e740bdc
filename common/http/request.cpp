#include "common/http/request.h"

namespace warden::http {

std::string_view MethodName(Method method) {
  switch (method) {
    case Method::kGet: return "GET";
    case Method::kHead: return "HEAD";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kPatch: return "PATCH";
    case Method::kDelete: return "DELETE";
    case Method::kOptions: return "OPTIONS";
    case Method::kOther: return "OTHER";
  }
  return "OTHER";
}

Request::Request(Method method, std::string_view target, std::string body, const void* message,
                 HeaderLookup header_lookup)
    : method_(method), target_(target), body_(std::move(body)), message_(message),
      header_lookup_(header_lookup) {
  auto question = target_.find('?');
  path_ = target_.substr(0, question);
  if (question != std::string_view::npos) query_ = target_.substr(question + 1);
}

std::string_view Request::header(std::string_view name) const {
  if (header_lookup_ == nullptr) return {};
  return header_lookup_(message_, name);
}

std::optional<std::string> Request::query_param(std::string_view name) const {
  std::string_view rest = query_;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    auto eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq), true);
    if (key != name) continue;
    if (eq == std::string_view::npos) return std::string{};
    return PercentDecode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

std::string_view Request::path_param(std::string_view name) const {
  for (const auto& [key, value] : path_params_) {
    if (key == name) return value;
  }
  return {};
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int high = hex(text[i + 1]);
      int low = hex(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

}  // namespace warden::http
