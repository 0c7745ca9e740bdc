// The options that bound policy condition expressions, declared once for the edge and the control
// plane: the control plane refuses a push over them and an edge refuses to apply one, so an
// operator who raises them raises them on both.
#pragma once

#include "common/config/options.h"
#include "common/policy/policy_set.h"
#include "common/util/status.h"

namespace warden {

// Declares max-expression-length and max-expression-depth.
void AddExpressionLimitOptions(config::Options& options);

// Reads them back; InvalidArgument naming the option when one is out of range.
Result<policy::ExpressionLimits> ExpressionLimitsFrom(const config::Options& options);

}  // namespace warden
