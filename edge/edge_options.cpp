#include "edge/edge_options.h"

#include "common/http/server_config.h"
#include "common/snapshot/expression_limit_options.h"

namespace warden::edge {

void AddEdgeOptions(config::Options& options) {
  http::AddServerOptions(options, {.listen = "127.0.0.1:8383"});
  options.Add("api-key", config::OptionType::kString, "",
              "require callers of the edge API to present this key (Authorization: Bearer KEY or X-API-Key); "
              "set it as WARDEN_API_KEY, not on the command line");
  options.Add("api-key-file", config::OptionType::kString, "",
              "require one of the keys in this file (one per line), for rotation; with or without --api-key");
  options.Add("data", config::OptionType::kString, "",
              "standalone mode: folder with policies/, manifest.yaml or schema.zed, and data/");
  options.Add("replica", config::OptionType::kString, "",
              "SQLite replica of the store this edge follows; loaded at start so the edge serves at once");
  options.Add("replica-durability", config::OptionType::kString, "normal",
              "normal: a revision survives the edge's crash, a power loss may take the last few back (resynced); "
              "full: fsync every revision");
  options.Add("control-plane", config::OptionType::kString, "",
              "follow this control plane (http://HOST:PORT, or https:// for TLS) over sync; pair with --replica");
  options.Add("key-file", config::OptionType::kString, "",
              "file holding the edge key (wardenctl keys create) the edge presents to the control plane");
  options.Add("control-plane-ca", config::OptionType::kString, "",
              "CA bundle (PEM) that verifies an https:// control plane (default: the system's CAs)");
  options.Add("control-plane-cert", config::OptionType::kString, "",
              "client certificate chain (PEM) the edge presents to an https:// control plane (mutual TLS); "
              "with --control-plane-key");
  options.Add("control-plane-key", config::OptionType::kString, "",
              "private key (PEM) of --control-plane-cert");
  options.Add("sync-mode", config::OptionType::kString, "auto",
              "ws (WebSocket only), pull (HTTP long polling only), or auto (WebSocket, falling back to pull)");
  options.Add("sync-poll-interval", config::OptionType::kDuration, "200ms",
              "pull mode: the pause between polls when nothing is new, and the first retry delay");
  options.Add("decision-log", config::OptionType::kString, "",
              "which decisions to log: off, all, denies, sample:RATE, or per API (authzen=all,cerbos=denies,"
              "directory=off); default: all when following a control plane, off otherwise");
  options.Add("decision-log-spool", config::OptionType::kString, "",
              "SQLite spool of decision-log entries (default: REPLICA.decisions beside --replica)");
  options.Add("decision-log-mask", config::OptionType::kString, "",
              "comma-separated JSON pointers whose values are logged as \"****\" (e.g. /subject/id)");
  options.Add("decision-log-drop", config::OptionType::kString, "",
              "comma-separated JSON pointers removed from logged entries (e.g. /reason)");
  options.Add("decision-log-max-spool", config::OptionType::kInt, "2000000",
              "most entries the spool holds while the control plane is unreachable (beyond: dropped, counted)");
  options.Add("decision-log-queue", config::OptionType::kInt, "65536",
              "entries the in-memory queue holds before the spool writer takes them (beyond: dropped, counted)");
  options.Add("decision-log-batch", config::OptionType::kInt, "1000", "entries per batch shipped");
  options.Add("decision-log-max-field", config::OptionType::kBytes, "16KiB",
              "longest string field (ids, types, action, policy, rule) a logged entry keeps; longer ones are cut "
              "and named in the entry's \"truncated\" list");
  options.Add("decision-log-flush", config::OptionType::kDuration, "1s", "longest a partial batch waits to ship");
  options.Add("poll-interval", config::OptionType::kDuration, "1s",
              "standalone mode: how often the data folder is checked for changes");
  options.Add("min-revision-wait", config::OptionType::kDuration, "1s",
              "how long a request carrying Warden-Min-Revision waits for that revision before 503");
  options.Add("max-batch", config::OptionType::kInt, "1000",
              "most items in one AuthZEN evaluations batch or Cerbos check request");
  options.Add("max-page-size", config::OptionType::kInt, "1000", "most results in one search or lookup page");
  options.Add("max-graph-depth", config::OptionType::kInt, "64",
              "most relation hops one check walks from the object (deeper: an error naming the limit)");
  options.Add("max-graph-visits", config::OptionType::kInt, "1000000",
              "most (object, relation) nodes one check visits: the fan-out bound");
  options.Add("max-eval-cost", config::OptionType::kInt, "1000000",
              "CEL cost units one condition may spend; past it the condition does not hold");
  AddExpressionLimitOptions(options);
}

}  // namespace warden::edge
