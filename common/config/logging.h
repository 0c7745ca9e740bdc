// Process-wide logging setup: level and format (human text or one JSON object per line).
#pragma once

#include <string>

#include "common/util/status.h"

namespace warden::config {

// `level`: trace, debug, info, warn, error, off. `format`: text or json. Logs go to stderr, so
// stdout stays free for a binary's machine-readable output.
Status ConfigureLogging(const std::string& level, const std::string& format);

}  // namespace warden::config
