// The conformance cases the engine is known to fail, each with the reason. A case listed here
// that starts passing is reported so the list can shrink; a failing case not listed fails the run.
#pragma once

#include <string_view>
#include <unordered_map>

namespace warden::cel::conformance {

// Key: "file/section/test#index" where index is the case's position in its section (test names
// are not unique within a section). Value: why it fails.
const std::unordered_map<std::string_view, std::string_view>& KnownFailures();

}  // namespace warden::cel::conformance
