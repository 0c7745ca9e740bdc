// Writing JSON text directly, for hot serializers that skip building a JSON tree.
#pragma once

#include <string>
#include <string_view>

namespace warden {

// `text` as a JSON string literal, escaped as nlohmann::json::dump() does (UTF-8 passes through).
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace warden
