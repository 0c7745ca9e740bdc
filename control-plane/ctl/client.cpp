#include "control-plane/ctl/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "common/http/client.h"

namespace warden::ctl {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;

std::string Trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) s = s.substr(1, s.size() - 2);
  return s;
}

// Reads "url: ..." and "token: ..." lines. A missing default file is fine; a missing named one
// is not.
bool LoadConfig(const std::string& path, bool must_exist, RemoteOptions& options) {
  std::ifstream in(path);
  if (!in) {
    if (must_exist) std::fprintf(stderr, "wardenctl: cannot read config file %s\n", path.c_str());
    return !must_exist;
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string trimmed = Trim(line);
    if (trimmed.empty() || trimmed[0] == '#') continue;
    size_t colon = trimmed.find(':');
    std::string key = colon == std::string::npos ? trimmed : Trim(trimmed.substr(0, colon));
    std::string value = colon == std::string::npos ? "" : Trim(trimmed.substr(colon + 1));
    if (key == "url") {
      options.url = value;
    } else if (key == "token") {
      options.token = value;
    } else if (key == "ca") {
      options.tls.ca_file = value;
    } else if (key == "cert") {
      options.tls.cert_file = value;
    } else if (key == "key") {
      options.tls.key_file = value;
    } else {
      std::fprintf(stderr, "wardenctl: %s:%d: unknown key '%s' (expected url, token, ca, cert, key)\n", path.c_str(), number,
                   key.c_str());
      return false;
    }
  }
  return true;
}

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string base_path;
};

Result<Url> ParseUrl(const std::string& text) {
  Url url;
  std::string rest;
  if (text.rfind("http://", 0) == 0) {
    rest = text.substr(7);
  } else if (text.rfind("https://", 0) == 0) {
    url.tls = true;
    rest = text.substr(8);
  } else {
    return Status::InvalidArgument("url: '" + text + "' must start with http:// or https://");
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string default_port = url.tls ? "443" : "80";
  url.base_path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!url.base_path.empty() && url.base_path.back() == '/') url.base_path.pop_back();
  size_t colon = authority.rfind(':');
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    url.host = authority.substr(1, close - 1);
    url.port = close + 1 < authority.size() && authority[close + 1] == ':' ? authority.substr(close + 2) : default_port;
  } else if (colon != std::string::npos) {
    url.host = authority.substr(0, colon);
    url.port = authority.substr(colon + 1);
  } else {
    url.host = authority;
    url.port = default_port;
  }
  if (url.host.empty() || url.port.empty()) return Status::InvalidArgument("url: '" + text + "' has no host or port");
  return url;
}

}  // namespace

bool RemoteOptions::has_flag(const std::string& name) const {
  return std::find(flags.begin(), flags.end(), name) != flags.end();
}

std::optional<RemoteOptions> ParseRemoteOptions(const std::string& command, const std::vector<std::string>& args,
                                                const std::vector<std::string>& known_flags) {
  RemoteOptions options;
  std::string config_path;
  bool config_named = false;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      config_path = args[i + 1];
      config_named = true;
    }
  }
  if (!config_named) {
    if (const char* env = std::getenv("WARDEN_CONFIG")) {
      config_path = env;
      config_named = true;
    } else if (const char* home = std::getenv("HOME")) {
      config_path = std::string(home) + "/.config/warden/wardenctl.yaml";
    }
  }
  if (!config_path.empty() && !LoadConfig(config_path, config_named, options)) return std::nullopt;
  if (const char* env = std::getenv("WARDEN_URL"); env && *env) options.url = env;
  if (const char* env = std::getenv("WARDEN_TOKEN"); env && *env) options.token = env;
  if (const char* env = std::getenv("WARDEN_CA"); env && *env) options.tls.ca_file = env;
  if (const char* env = std::getenv("WARDEN_CERT"); env && *env) options.tls.cert_file = env;
  if (const char* env = std::getenv("WARDEN_KEY"); env && *env) options.tls.key_file = env;

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto take_value = [&](const std::string& name, std::string& out) -> bool {
      if (arg == name) {
        if (i + 1 >= args.size()) {
          std::fprintf(stderr, "wardenctl %s: %s needs a value\n", command.c_str(), name.c_str());
          return false;
        }
        out = args[++i];
        return true;
      }
      out = arg.substr(name.size() + 1);
      return true;
    };
    std::string ignored;
    if (arg == "--url" || arg.rfind("--url=", 0) == 0) {
      if (!take_value("--url", options.url)) return std::nullopt;
    } else if (arg == "--token" || arg.rfind("--token=", 0) == 0) {
      if (!take_value("--token", options.token)) return std::nullopt;
    } else if (arg == "--ca" || arg.rfind("--ca=", 0) == 0) {
      if (!take_value("--ca", options.tls.ca_file)) return std::nullopt;
    } else if (arg == "--cert" || arg.rfind("--cert=", 0) == 0) {
      if (!take_value("--cert", options.tls.cert_file)) return std::nullopt;
    } else if (arg == "--key" || arg.rfind("--key=", 0) == 0) {
      if (!take_value("--key", options.tls.key_file)) return std::nullopt;
    } else if (arg == "--config" || arg.rfind("--config=", 0) == 0) {
      if (!take_value("--config", ignored)) return std::nullopt;
    } else if (arg == "--json") {
      options.json = true;
    } else if (std::find(known_flags.begin(), known_flags.end(), arg) != known_flags.end()) {
      options.flags.push_back(arg);
    } else if (arg.size() > 1 && arg[0] == '-' && arg != "-") {
      std::fprintf(stderr, "wardenctl %s: unknown flag '%s'\n", command.c_str(), arg.c_str());
      return std::nullopt;
    } else {
      options.args.push_back(arg);
    }
  }
  return options;
}

Result<HttpAnswer> Client::Send(const std::string& method, const std::string& target, const std::string& body,
                                const std::string& content_type, const Progress& progress) const {
  auto url = ParseUrl(options_.url);
  if (!url.ok()) return url.status();
  std::shared_ptr<boost::asio::ssl::context> tls;
  if (url->tls) {
    auto context = http::MakeClientTlsContext(options_.tls);
    if (!context.ok()) return context.status();
    tls = *context;
  }
  try {
    boost::asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream plain(io);
    std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
    if (tls) {
      secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(io, *tls);
      if (!SSL_set_tlsext_host_name(secure->native_handle(), url->host.c_str())) {
        return Status::InvalidArgument("url: cannot use '" + url->host + "' as a TLS server name");
      }
      secure->set_verify_callback(boost::asio::ssl::host_name_verification(url->host));
    }
    beast::tcp_stream& tcp_layer = secure ? beast::get_lowest_layer(*secure) : plain;
    auto endpoints = resolver.resolve(url->host, url->port);
    tcp_layer.expires_after(std::chrono::seconds(10));
    tcp_layer.connect(endpoints);
    if (secure) secure->handshake(boost::asio::ssl::stream_base::client);

    bhttp::request<bhttp::string_body> request;
    request.method(bhttp::string_to_verb(method));
    request.target(url->base_path + target);
    request.version(11);
    request.set(bhttp::field::host, url->host);
    request.set(bhttp::field::user_agent, "wardenctl");
    if (!options_.token.empty()) request.set(bhttp::field::authorization, "Bearer " + options_.token);
    if (!body.empty() || method == "POST" || method == "PUT") {
      request.set(bhttp::field::content_type, content_type);
      request.body() = body;
    }
    request.prepare_payload();
    // Large bodies (imports) get minutes, not seconds, to upload and to be committed.
    auto budget = std::chrono::seconds(30 + body.size() / (256 * 1024));
    tcp_layer.expires_after(budget);
    auto exchange = [&](auto& stream) {
      bhttp::request_serializer<bhttp::string_body> serializer(request);
      serializer.limit(1 << 20);
      size_t sent = 0;
      while (!serializer.is_done()) {
        sent += bhttp::write_some(stream, serializer);
        if (progress) progress(std::min(sent, body.size()), body.size());
      }
      beast::flat_buffer buffer;
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(std::numeric_limits<uint64_t>::max());
      bhttp::read(stream, buffer, parser);
      auto& response = parser.get();
      return HttpAnswer{response.result_int(), !options_.token.empty(),
                        std::string(response[bhttp::field::content_type]), std::move(response.body())};
    };
    HttpAnswer answer = secure ? exchange(*secure) : exchange(plain);
    beast::error_code ignored;
    tcp_layer.socket().shutdown(tcp::socket::shutdown_both, ignored);
    return answer;
  } catch (const boost::system::system_error& e) {
    // Under TLS 1.3 a server refusing the client certificate says so only when the response is
    // read, long after "connect": name TLS so the operator looks at certificates, not the network.
    if (http::IsTlsErrorCategory(e.code().category().name())) {
      return Status::Unavailable("TLS with " + options_.url + " failed: " + e.code().message());
    }
    return Status::Unavailable("cannot reach " + options_.url + ": " + e.code().message());
  }
}

int PrintRefusal(const HttpAnswer& answer) {
  std::string message = answer.body;
  auto json = nlohmann::json::parse(answer.body, nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_object()) {
    message = json["error"].value("message", answer.body);
  }
  std::fprintf(stderr, "wardenctl: refused (HTTP %u): %s\n", answer.status, message.c_str());
  if (answer.status == 401 && !answer.sent_token) {
    std::fputs("wardenctl: no token was given: pass --token TOKEN, set WARDEN_TOKEN, or put 'token: ...' in "
               "~/.config/warden/wardenctl.yaml\n",
               stderr);
  }
  return kExitRefused;
}

int Client::Call(const std::string& method, const std::string& target, const nlohmann::json* body,
                 const std::function<void(const nlohmann::json&)>& print) const {
  return Call(method, target, body ? body->dump() : std::string(), "application/json", {}, print);
}

int Client::Call(const std::string& method, const std::string& target, const std::string& body,
                 const std::string& content_type, const Progress& progress,
                 const std::function<void(const nlohmann::json&)>& print) const {
  auto answer = Send(method, target, body, content_type, progress);
  if (!answer.ok()) {
    std::fprintf(stderr, "wardenctl: %s\n", answer.status().message().c_str());
    return kExitUsage;
  }
  if (answer->status < 200 || answer->status >= 300) return PrintRefusal(*answer);
  auto json = nlohmann::json::parse(answer->body, nullptr, false);
  if (json.is_discarded()) {
    std::fprintf(stderr, "wardenctl: the server answered HTTP %u with a body that is not JSON\n", answer->status);
    return kExitRefused;
  }
  if (options_.json) {
    std::printf("%s\n", json.dump().c_str());
  } else {
    print(json);
  }
  return kExitOk;
}

std::string UrlEncode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string U64Cell(const nlohmann::json& json, const char* key) {
  return std::to_string(json.value(key, uint64_t{0}));
}

void PrintTableRow(const std::vector<size_t>& widths, const std::vector<std::string>& row) {
  std::string line;
  for (size_t i = 0; i < widths.size(); ++i) {
    const std::string cell = i < row.size() ? row[i] : "";
    line += cell;
    if (i + 1 < widths.size()) line += std::string(widths[i] > cell.size() ? widths[i] - cell.size() + 2 : 2, ' ');
  }
  std::printf("%s\n", line.c_str());
}

std::vector<size_t> PrintTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                               const std::vector<size_t>& min_widths) {
  std::vector<size_t> widths(header.size());
  for (size_t i = 0; i < header.size(); ++i) {
    widths[i] = std::max(header[i].size(), i < min_widths.size() ? min_widths[i] : 0);
  }
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  PrintTableRow(widths, header);
  for (const auto& row : rows) PrintTableRow(widths, row);
  return widths;
}

}  // namespace warden::ctl
