#include "common/snapshot/expression_limit_options.h"

#include <string>

namespace warden {

namespace {
// The parser and evaluator recurse once per nesting level; past this a hostile policy could
// exhaust a thread's stack whatever an operator configures (cel::CompileOptions caps it too).
constexpr int64_t kHighestDepth = 400;
}  // namespace

void AddExpressionLimitOptions(config::Options& options) {
  policy::ExpressionLimits defaults;
  options.Add("max-expression-length", config::OptionType::kBytes, std::to_string(defaults.max_length),
              "longest policy condition expression accepted, in bytes (longer: the policy is refused)");
  options.Add("max-expression-depth", config::OptionType::kInt, std::to_string(defaults.max_depth),
              "deepest nesting of a policy condition expression (deeper: refused; at most 400)");
}

Result<policy::ExpressionLimits> ExpressionLimitsFrom(const config::Options& options) {
  policy::ExpressionLimits limits;
  uint64_t length = options.GetBytes("max-expression-length");
  int64_t depth = options.GetInt("max-expression-depth");
  if (length < 1) return Status::InvalidArgument("option 'max-expression-length' must be at least 1 byte");
  if (depth < 1 || depth > kHighestDepth) {
    return Status::InvalidArgument("option 'max-expression-depth' must be between 1 and " +
                                   std::to_string(kHighestDepth));
  }
  limits.max_length = static_cast<size_t>(length);
  limits.max_depth = static_cast<int>(depth);
  return limits;
}

}  // namespace warden
