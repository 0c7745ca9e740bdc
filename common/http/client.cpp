#include "common/http/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace warden::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

Result<ClientResponse> Fetch(const ClientRequest& request) {
  const std::string prefix = "http://";
  if (request.url.rfind(prefix, 0) != 0) {
    return Status::InvalidArgument("url '" + request.url + "' must start with http://");
  }
  std::string rest = request.url.substr(prefix.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("url '" + request.url + "' needs a port");
  std::string host = authority.substr(0, colon);
  std::string port = authority.substr(colon + 1);

  asio::io_context io;
  beast::tcp_stream stream(io);
  beast::error_code error;
  asio::ip::tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, port, error);
  if (error) return Status::Unavailable("cannot resolve " + authority + ": " + error.message());

  bhttp::request<bhttp::string_body> outgoing{bhttp::string_to_verb(request.method), target, 11};
  outgoing.set(bhttp::field::host, authority);
  outgoing.set(bhttp::field::user_agent, "warden");
  for (const auto& [name, value] : request.headers) outgoing.set(name, value);
  if (!request.body.empty()) {
    outgoing.set(bhttp::field::content_type, "application/json");
    outgoing.body() = request.body;
  }
  outgoing.prepare_payload();

  // Blocking calls on a beast::tcp_stream do not honour expires_after; run them asynchronously
  // so the one deadline bounds connect, write and read together.
  ClientResponse response;
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(4ull << 30);
  bool connected = false;
  stream.expires_after(request.timeout);
  stream.async_connect(endpoints, [&](beast::error_code c, const asio::ip::tcp::endpoint&) {
    if (c) {
      error = c;
      return;
    }
    connected = true;
    bhttp::async_write(stream, outgoing, [&](beast::error_code w, size_t) {
      if (w) {
        error = w;
        return;
      }
      bhttp::async_read(stream, buffer, parser, [&](beast::error_code r, size_t) { error = r; });
    });
  });
  io.run();
  if (error == beast::error::timeout) return Status::DeadlineExceeded("no answer from " + authority + " in time");
  if (error && !connected) return Status::Unavailable("cannot connect to " + authority + ": " + error.message());
  if (error) return Status::Unavailable("request to " + authority + " failed: " + error.message());
  response.status = parser.get().result_int();
  for (const auto& field : parser.get()) {
    response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  response.body = std::move(parser.get().body());
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, error);
  return response;
}

}  // namespace warden::http
