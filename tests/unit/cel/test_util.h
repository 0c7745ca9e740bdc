// Helpers shared by the CEL unit tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/cel/cel.h"

namespace warden::cel::testing {

// Compiles `source` with `variables` declared; REQUIRES success (fails the test otherwise).
std::shared_ptr<const Program> MustCompile(std::string_view source, std::vector<std::string> variables = {});
// Compiles and evaluates with `activation`.
Value Eval(std::string_view source, const Activation& activation = Activation(),
           std::vector<std::string> variables = {});
// The compile error message, or "" when it compiled.
std::string CompileError(std::string_view source, std::vector<std::string> variables = {});

}  // namespace warden::cel::testing
