// The connection settings every remote wardenctl command shares, and its HTTP client.
//
// Settings, lowest precedence first: the config file (--config FILE, else $WARDEN_CONFIG, else
// ~/.config/warden/wardenctl.yaml; lines "url: ..." and "token: ..."), the environment
// (WARDEN_URL, WARDEN_TOKEN), the flags (--url, --token). The same three layers give the TLS files:
// "ca:", "cert:" and "key:" lines, WARDEN_CA, WARDEN_CERT and WARDEN_KEY, --ca, --cert and --key.
// --json switches output to JSON.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http/client.h"
#include "common/util/status.h"

namespace warden::ctl {

// Exit codes of every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;
inline constexpr int kExitUsage = 2;

struct RemoteOptions {
  std::string url = "http://127.0.0.1:8484";
  std::string token;
  // https: the CA bundle verifying the server (--ca); mutual TLS: the certificate and key presented
  // (--cert, --key).
  http::ClientTlsFiles tls;
  bool json = false;
  // What is left after the shared flags are taken out, in order.
  std::vector<std::string> args;
  // Flags a command declared as boolean ("--prune") that were present.
  std::vector<std::string> flags;

  bool has_flag(const std::string& name) const;
};

// Takes the shared flags (and the command's own boolean `known_flags`) out of `args`. Prints a
// usage error and returns nullopt for an unknown flag or a flag missing its value.
std::optional<RemoteOptions> ParseRemoteOptions(const std::string& command, const std::vector<std::string>& args,
                                                const std::vector<std::string>& known_flags = {});

struct HttpAnswer {
  unsigned status = 0;
  bool sent_token = false;  // whether the request carried a bearer token (for a 401's hint)
  std::string content_type;
  std::string body;
};

// Called while a large body uploads: bytes sent so far and the total.
using Progress = std::function<void(size_t sent, size_t total)>;

class Client {
 public:
  explicit Client(const RemoteOptions& options) : options_(options) {}

  // Sends one request. Unavailable (exit 2) naming the URL when the server cannot be reached or
  // the URL is malformed; any HTTP status is an answer.
  Result<HttpAnswer> Send(const std::string& method, const std::string& target, const std::string& body = {},
                          const std::string& content_type = "application/json", const Progress& progress = {}) const;

  // Send() then the command's usual ending: on 2xx calls `print` with the parsed JSON body and
  // returns 0; otherwise prints "wardenctl: <message>" (the server's error message) and returns
  // 1; on a connection error prints it and returns 2.
  int Call(const std::string& method, const std::string& target, const nlohmann::json* body,
           const std::function<void(const nlohmann::json&)>& print) const;
  // The same with a body already in text (an import's JSON lines), and `progress` while it uploads.
  int Call(const std::string& method, const std::string& target, const std::string& body,
           const std::string& content_type, const Progress& progress,
           const std::function<void(const nlohmann::json&)>& print) const;

  const RemoteOptions& options() const { return options_; }

 private:
  RemoteOptions options_;
};

// Percent-encodes one path segment or query value.
std::string UrlEncode(const std::string& text);

// Prints rows as an aligned table with a header line. Returns each column's width (at least
// `min_widths[i]` where given), so rows printed later (wardenctl decisions --follow) line up.
std::vector<size_t> PrintTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                               const std::vector<size_t>& min_widths = {});
// One row in columns of `widths` (a cell longer than its column pushes the rest right).
void PrintTableRow(const std::vector<size_t>& widths, const std::vector<std::string>& row);
// A table cell: `json[key]` as an unsigned integer's digits ("0" when absent).
std::string U64Cell(const nlohmann::json& json, const char* key);

// Prints the error an answer carries and returns the exit code it maps to (1).
int PrintRefusal(const HttpAnswer& answer);

}  // namespace warden::ctl
