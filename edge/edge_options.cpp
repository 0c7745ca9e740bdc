#include "edge/edge_options.h"

#include "common/http/server_config.h"

namespace warden::edge {

void AddEdgeOptions(config::Options& options) {
  http::AddServerOptions(options, "127.0.0.1:8383");
  options.Add("data", config::OptionType::kString, "",
              "standalone mode: folder with policies/, manifest.yaml or schema.zed, and data/");
  options.Add("replica", config::OptionType::kString, "",
              "SQLite replica of the store this edge follows; loaded at start so the edge serves at once");
  options.Add("control-plane", config::OptionType::kString, "",
              "follow this control plane (http://HOST:PORT, or https:// for TLS) over sync; pair with --replica");
  options.Add("key-file", config::OptionType::kString, "",
              "file holding the edge key (wardenctl keys create) the edge presents to the control plane");
  options.Add("control-plane-ca", config::OptionType::kString, "",
              "CA bundle (PEM) that verifies an https:// control plane (default: the system's CAs)");
  options.Add("sync-mode", config::OptionType::kString, "auto",
              "ws (WebSocket only), pull (HTTP long polling only), or auto (WebSocket, falling back to pull)");
  options.Add("sync-poll-interval", config::OptionType::kDuration, "200ms",
              "pull mode: the pause between polls when nothing is new, and the first retry delay");
  options.Add("poll-interval", config::OptionType::kDuration, "1s",
              "standalone mode: how often the data folder is checked for changes");
  options.Add("max-batch", config::OptionType::kInt, "1000",
              "most items in one AuthZEN evaluations batch or Cerbos check request");
  options.Add("max-page-size", config::OptionType::kInt, "1000", "most results in one search or lookup page");
}

}  // namespace warden::edge
