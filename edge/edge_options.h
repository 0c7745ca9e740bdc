// The settings of warden-edge, declared once (flags, WARDEN_* variables, --config file).
#pragma once

#include "common/config/options.h"

namespace warden::edge {

void AddEdgeOptions(config::Options& options);

}  // namespace warden::edge
