// Partial evaluation, for query plans (Cerbos's PlanResources).
#pragma once

#include "common/cel/activation.h"
#include "common/cel/program.h"
#include "common/cel/residual.h"

namespace warden::cel {

// Evaluates everything in `program` that does not depend on an attribute the activation marks
// unknown (Activation::MarkUnknown), and returns either a known Value (Residual::is_known(); it
// may be an error value) or the residual expression over the unknown attributes, with `&&`/`||`
// simplified by the parts that are known (CEL's commutative absorption: `false && unknown` is
// false, `true || unknown` is true). Unknown attributes render with their canonical spelling.
// Functions without a plan operator name keep their CEL name. As in Cerbos's planner, a presence
// test has() on an unknown attribute is taken as true (the comparisons on the attribute remain),
// a selection on a residual that is not a plain path renders as "get-field", and hierarchy(...)
// calls stay calls even when their argument is known.
Residual PartialEvaluate(const Program& program, const Activation& activation);

}  // namespace warden::cel
