// gzip bodies for endpoints that send large payloads (the snapshot), via zlib.
#pragma once

#include <string>
#include <string_view>

#include "common/util/status.h"

namespace warden::http {

// `data` as one gzip member, at a fast level: snapshots are large and served often.
std::string Gzip(std::string_view data);
// The data of a gzip body; InvalidArgument when it is not one, or expands past `max_bytes`.
Result<std::string> Gunzip(std::string_view data, size_t max_bytes);

// Whether an Accept-Encoding header value admits gzip.
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace warden::http
