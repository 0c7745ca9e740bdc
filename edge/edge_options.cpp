#include "edge/edge_options.h"

#include "common/http/server_config.h"

namespace warden::edge {

void AddEdgeOptions(config::Options& options) {
  http::AddServerOptions(options, "127.0.0.1:8383");
  options.Add("data", config::OptionType::kString, "",
              "standalone mode: folder with policies/, manifest.yaml or schema.zed, and data/");
}

}  // namespace warden::edge
