#include "common/http/response_head.h"

#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <charconv>
#include <vector>

namespace warden::http {

namespace {

bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

void AppendField(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

}  // namespace

bool StatusAllowsBody(unsigned status) { return status >= 200 && status != 204 && status != 304; }

std::string ResponseHead(const Response& response, unsigned version, bool keep_alive, std::string_view server_header,
                         size_t content_length) {
  // Server and Content-Type first, then the handler's headers; as with Beast's set(), a name given
  // again replaces the earlier field and moves to the end.
  struct Field {
    std::string_view name, value;
  };
  Field fixed[2] = {{"Server", server_header}, {"Content-Type", response.content_type}};
  std::vector<Field> extra;
  bool replaced[2] = {false, false};
  for (const auto& header : response.headers) {
    std::string_view name = header.first;
    if (SameName(name, "Content-Length") || SameName(name, "Connection")) continue;
    for (int i = 0; i < 2; ++i) {
      if (SameName(name, fixed[i].name)) replaced[i] = true;
    }
    std::erase_if(extra, [name](const Field& f) { return SameName(f.name, name); });
    extra.push_back({name, header.second});
  }

  std::string head;
  head.reserve(160 + response.content_type.size() + server_header.size());
  head.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  char number[24];
  auto [end, error] = std::to_chars(number, number + sizeof number, response.status);
  (void)error;
  head.append(number, end);
  head.push_back(' ');
  boost::core::string_view reason = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(response.status));
  head.append(reason.data(), reason.size());
  head.append("\r\n");
  for (int i = 0; i < 2; ++i) {
    if (!replaced[i]) AppendField(head, fixed[i].name, fixed[i].value);
  }
  for (const Field& field : extra) AppendField(head, field.name, field.value);
  // HTTP/1.1 keeps a connection open unless told; HTTP/1.0 closes it unless told.
  if (version == 10 && keep_alive) AppendField(head, "Connection", "keep-alive");
  if (version != 10 && !keep_alive) AppendField(head, "Connection", "close");
  if (StatusAllowsBody(response.status)) {
    auto [length_end, length_error] = std::to_chars(number, number + sizeof number, content_length);
    (void)length_error;
    AppendField(head, "Content-Length", std::string_view(number, static_cast<size_t>(length_end - number)));
  }
  head.append("\r\n");
  return head;
}

}  // namespace warden::http
