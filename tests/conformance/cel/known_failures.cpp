#include "tests/conformance/cel/known_failures.h"

namespace warden::cel::conformance {

const std::unordered_map<std::string_view, std::string_view>& KnownFailures() {
  static const std::unordered_map<std::string_view, std::string_view> known = {
  };
  return known;
}

}  // namespace warden::cel::conformance
