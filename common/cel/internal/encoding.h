// Base64 and UTF-8 helpers for bytes values, string indexing and JSON output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warden::cel::internal {

std::string Base64Encode(std::string_view data);
// Standard alphabet; padding optional. nullopt on any other character.
std::optional<std::string> Base64Decode(std::string_view text);

// Whether `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);
// Decodes one code point at `pos`, advancing it. REQUIRES: valid UTF-8.
uint32_t NextCodePoint(std::string_view s, size_t& pos);
void AppendUtf8(std::string& out, uint32_t cp);
// Number of code points. REQUIRES: valid UTF-8.
size_t CodePointCount(std::string_view s);
// Byte offsets of each code point start, plus s.size() at the end.
std::vector<size_t> CodePointOffsets(std::string_view s);

}  // namespace warden::cel::internal
