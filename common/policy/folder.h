// Reading a policy folder: every policy file under a directory, at any depth.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/policy/policy_set.h"
#include "common/policy/source.h"
#include "common/util/status.h"

namespace warden::policy {

// Whether `relative_path` (relative to the policy folder) names a policy file: it ends in
// .yaml, .yml or .json, is not a test suite (`*_test.yaml`, `*_test.yml`, `*_test.json`), does
// not lie under a `testdata/` directory, and no part of it starts with '.'.
bool IsPolicyFile(const std::string& relative_path);

// Reads every policy file under `dir`, sorted by path. Paths in the result are relative to
// `dir`. NotFound when `dir` does not exist; InvalidArgument when a file cannot be read.
Result<std::vector<SourceDocument>> ReadPolicyFolder(const std::string& dir);

// ReadPolicyFolder then PolicySet::Compile.
Result<std::shared_ptr<const PolicySet>> LoadPolicyFolder(const std::string& dir, const CompileSetOptions& options = {},
                                                          std::vector<LoadError>* errors = nullptr);

}  // namespace warden::policy
