// A fast parser for well-formed JSON into nlohmann::json.
//
// nlohmann's own parser reads a byte at a time through an input adapter and builds every string a
// character at a time; on a decision request it cost more than the decision. This one walks the
// text directly and builds the same document. It handles only what it can be sure of: for any
// text it does not take (malformed JSON, a number out of range, a byte-order mark, nesting past
// `max_depth`) it returns false and the caller falls back to nlohmann, which also explains the
// error. Whatever it accepts, nlohmann accepts too and parses to an equal document with the same
// number types (unit test and fuzz target compare the two).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace warden::http {

// On true, `out` holds the document. On false, `out` is unspecified.
bool FastParseJson(std::string_view text, int max_depth, nlohmann::json& out);

}  // namespace warden::http
