// JSON as text, without a JSON tree: writing strings directly (for hot serializers), and
// checking nesting before a recursive parser or copy sees the text.
#pragma once

#include <string>
#include <string_view>

#include "common/util/status.h"

namespace warden {

// Refuses text whose arrays/objects nest deeper than `max_depth`, before a recursive parser can
// exhaust the stack on it. Scans bytes only; strings are skipped correctly.
Status CheckJsonNesting(std::string_view text, int max_depth);

// The nesting a data folder's files may reach, and the default of the servers' --max-json-depth
// for request bodies and import lines.
inline constexpr int kMaxJsonDepth = 128;

// The length of the UTF-8 sequence `text` starts with (its first byte >= 0x80) when RFC 3629
// allows it (no overlong forms, no surrogates, nothing past U+10FFFF), else 0. For the fast JSON
// readers, which take raw multi-byte text only when it is valid.
size_t Utf8SequenceLength(std::string_view text);

// `text` as a JSON string literal, escaped as nlohmann::json::dump() does (UTF-8 passes through).
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace warden
