// `warden-control-plane token create NAME [read|write] --db FILE`: an admin token made offline,
// straight in the store, for a store that has none (started without WARDEN_ADMIN_TOKEN) or whose
// every write token was lost. The token is printed once, on stdout; only its SHA-256 is stored.
#pragma once

#include <string>
#include <vector>

namespace warden::control_plane {

// `args` are the words after "token". Returns the exit code: 0 made, 1 the store refused, 2 usage.
int RunTokenCommand(const std::vector<std::string>& args);

}  // namespace warden::control_plane
