#include "tests/unit/cel/test_util.h"

#include <doctest/doctest.h>

namespace warden::cel::testing {

std::shared_ptr<const Program> MustCompile(std::string_view source, std::vector<std::string> variables) {
  CompileOptions options;
  options.variables = std::move(variables);
  auto program = Compile(source, options);
  INFO("source: " << source);
  REQUIRE_MESSAGE(program.ok(), program.status().ToString());
  return *program;
}

Value Eval(std::string_view source, const Activation& activation, std::vector<std::string> variables) {
  if (variables.empty()) {
    // Declare whatever the activation binds under the usual Cerbos names.
    for (const char* name : {"x", "y", "s", "l", "m", "R", "P", "request", "V", "C", "ts"}) {
      if (activation.Find(name) != nullptr) variables.push_back(name);
    }
  }
  auto program = MustCompile(source, std::move(variables));
  return Evaluate(*program, activation);
}

std::string CompileError(std::string_view source, std::vector<std::string> variables) {
  CompileOptions options;
  options.variables = std::move(variables);
  auto program = Compile(source, options);
  return program.ok() ? std::string() : program.status().message();
}

}  // namespace warden::cel::testing
