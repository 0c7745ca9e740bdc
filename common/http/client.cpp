#include "common/http/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/err.h>
#include <openssl/x509.h>

namespace warden::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

Result<ParsedUrl> ParseUrl(const std::string& url) {
  ParsedUrl parsed;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    parsed.tls = true;
    rest = url.substr(8);
  } else {
    return Status::InvalidArgument("url '" + url + "' must start with http:// or https://");
  }
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  parsed.target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == authority.size()) {
    return Status::InvalidArgument("url '" + url + "' needs HOST:PORT");
  }
  parsed.host = authority.substr(0, colon);
  parsed.port = authority.substr(colon + 1);
  if (parsed.port.find_first_not_of("0123456789") != std::string::npos) {
    return Status::InvalidArgument("url '" + url + "' has a port that is not a number");
  }
  return parsed;
}

Result<std::shared_ptr<asio::ssl::context>> MakeClientTlsContext(const ClientTlsFiles& files) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  beast::error_code error;
  if (files.ca_file.empty()) {
    context->set_default_verify_paths(error);
  } else {
    context->load_verify_file(files.ca_file, error);
  }
  if (error) return Status::InvalidArgument("cannot load CA bundle '" + files.ca_file + "': " + error.message());
  context->set_verify_mode(asio::ssl::verify_peer);
  if (files.cert_file.empty() != files.key_file.empty()) {
    return Status::InvalidArgument(files.cert_file.empty()
                                       ? "client key '" + files.key_file + "' given without its certificate"
                                       : "client certificate '" + files.cert_file + "' given without its key");
  }
  if (files.cert_file.empty()) return context;
  context->use_certificate_chain_file(files.cert_file, error);
  if (error) {
    return Status::InvalidArgument("cannot load client certificate '" + files.cert_file + "': " + error.message());
  }
  // OpenSSL compares the key with the certificate as it loads it.
  context->use_private_key_file(files.key_file, asio::ssl::context::pem, error);
  if (error && ERR_GET_REASON(static_cast<unsigned long>(error.value())) == X509_R_KEY_VALUES_MISMATCH) {
    return Status::InvalidArgument("client key '" + files.key_file + "' does not match certificate '" +
                                   files.cert_file + "'");
  }
  if (error) return Status::InvalidArgument("cannot load client key '" + files.key_file + "': " + error.message());
  return context;
}

bool IsTlsErrorCategory(std::string_view category_name) { return category_name.substr(0, 8) == "asio.ssl"; }

void FetchCanceller::Cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  if (in_flight_ != nullptr) in_flight_->stop();  // io_context::stop is safe from any thread
}

bool FetchCanceller::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

// Makes one Fetch's io_context reachable by its canceller for the Fetch's lifetime.
class FetchRegistration {
 public:
  FetchRegistration(FetchCanceller* canceller, asio::io_context& io) : canceller_(canceller) {
    if (canceller_ == nullptr) return;
    std::lock_guard lock(canceller_->mutex_);
    if (canceller_->cancelled_) io.stop();
    canceller_->in_flight_ = &io;
  }
  ~FetchRegistration() {
    if (canceller_ == nullptr) return;
    std::lock_guard lock(canceller_->mutex_);
    canceller_->in_flight_ = nullptr;
  }
  bool cancelled() const { return canceller_ != nullptr && canceller_->cancelled(); }
  FetchRegistration(const FetchRegistration&) = delete;
  FetchRegistration& operator=(const FetchRegistration&) = delete;

 private:
  FetchCanceller* canceller_;
};

Result<ClientResponse> Fetch(const ClientRequest& request) {
  auto url = ParseUrl(request.url);
  if (!url.ok()) return url.status();
  std::string authority = url->host + ":" + url->port;

  asio::io_context io;
  FetchRegistration registration(request.canceller, io);
  beast::error_code error;
  asio::ip::tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(url->host, url->port, error);
  if (error) return Status::Unavailable("cannot resolve " + authority + ": " + error.message());

  bhttp::request<bhttp::string_body> outgoing{bhttp::string_to_verb(request.method), url->target, 11};
  outgoing.set(bhttp::field::host, authority);
  outgoing.set(bhttp::field::user_agent, "warden");
  for (const auto& [name, value] : request.headers) outgoing.set(name, value);
  if (!request.body.empty()) {
    outgoing.set(bhttp::field::content_type, "application/json");
    outgoing.body() = request.body;
  }
  outgoing.prepare_payload();

  // Blocking calls on a beast::tcp_stream do not honour expires_after; run them asynchronously
  // so the one deadline bounds connect, handshake, write and read together.
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(4ull << 30);
  bool connected = false;
  auto exchange = [&](auto& stream) {
    bhttp::async_write(stream, outgoing, [&](beast::error_code w, size_t) {
      if (w) {
        error = w;
        return;
      }
      bhttp::async_read(stream, buffer, parser, [&](beast::error_code r, size_t) { error = r; });
    });
  };
  std::shared_ptr<asio::ssl::context> tls;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_stream;
  beast::tcp_stream plain_stream(io);
  if (url->tls) {
    auto context = MakeClientTlsContext(request.tls);
    if (!context.ok()) return context.status();
    tls = *context;
    tls_stream = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io, *tls);
    if (!SSL_set_tlsext_host_name(tls_stream->native_handle(), url->host.c_str())) {
      return Status::InvalidArgument("cannot use '" + url->host + "' as a TLS server name");
    }
    tls_stream->set_verify_callback(asio::ssl::host_name_verification(url->host));
  }
  beast::tcp_stream& tcp = tls_stream ? beast::get_lowest_layer(*tls_stream) : plain_stream;
  tcp.expires_after(request.timeout);
  tcp.async_connect(endpoints, [&](beast::error_code c, const asio::ip::tcp::endpoint&) {
    if (c) {
      error = c;
      return;
    }
    connected = true;
    if (!tls_stream) {
      exchange(plain_stream);
      return;
    }
    tls_stream->async_handshake(asio::ssl::stream_base::client, [&](beast::error_code h) {
      if (h) {
        error = h;
        return;
      }
      exchange(*tls_stream);
    });
  });
  io.run();
  if (registration.cancelled()) return Status::Unavailable("request to " + authority + " cancelled");
  if (error == beast::error::timeout) return Status::DeadlineExceeded("no answer from " + authority + " in time");
  if (error && !connected) return Status::Unavailable("cannot connect to " + authority + ": " + error.message());
  // Under TLS 1.3 a server refusing the client certificate says so only once the response is
  // read: name TLS, so that certificates are looked at rather than the network.
  if (error && IsTlsErrorCategory(error.category().name())) {
    return Status::Unavailable("TLS with " + authority + " failed: " + error.message());
  }
  if (error) return Status::Unavailable("request to " + authority + " failed: " + error.message());
  ClientResponse response;
  response.status = parser.get().result_int();
  for (const auto& field : parser.get()) {
    response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  response.body = std::move(parser.get().body());
  tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_both, error);
  return response;
}

}  // namespace warden::http
