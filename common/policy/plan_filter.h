// Evaluating a Cerbos PlanResources filter condition against one resource.
//
// An application turns a plan's condition into a database query; this evaluator is the
// reference meaning of that condition, used to prove two plans equivalent (conformance tests)
// and to filter resources in memory. It reads the JSON shape Cerbos emits:
//   {"expression": {"operator": "and", "operands": [...]}}, {"variable": "request.resource.attr.x"},
//   {"value": <json>}
// with the operators eq ne lt le gt ge and or not in add sub mult div mod index list size
// startsWith endsWith contains matches lowerAscii upperAscii hasIntersection isSubset intersect
// except hierarchy ancestorOf descendentOf immediateChildOf immediateParentOf overlaps siblingOf
// exists all exists_one filter map lambda.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/util/status.h"

namespace warden::policy {

// The value of a filter expression for `resource` ({"id": .., "attr": {..}}): a JSON value, or
// an error (a missing attribute, a type mismatch, an unknown operator) whose message says why.
struct FilterValue {
  bool error = false;
  std::string message;  // when error
  nlohmann::json value;
};

FilterValue EvaluateFilterCondition(const nlohmann::json& condition, const nlohmann::json& resource);

// Whether the filter ({"kind": ..., "condition"?: ...}) admits `resource`. An erroring condition
// admits nothing (as a failing SQL predicate would). InvalidArgument for a malformed filter.
Result<bool> FilterAdmits(const nlohmann::json& filter, const nlohmann::json& resource);

}  // namespace warden::policy
