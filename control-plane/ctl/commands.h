// wardenctl's commands, one function per command. Each takes the arguments after the command
// name and returns the process exit code: 0 ok, 1 refused or failed, 2 usage error.
#pragma once

#include <string>
#include <vector>

namespace warden::ctl {

// eval --data DIR: decides request lines from stdin, answers one JSON line each on stdout.
int EvalCommand(const std::vector<std::string>& args);
// test DIR: runs the policy test suites found in DIR (or DIR/policies).
int TestCommand(const std::vector<std::string>& args);

}  // namespace warden::ctl
