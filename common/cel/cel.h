// The CEL engine in one include: values, compiling, evaluating, partial evaluation.
#pragma once

#include "common/cel/activation.h"
#include "common/cel/evaluate.h"
#include "common/cel/partial.h"
#include "common/cel/program.h"
#include "common/cel/residual.h"
#include "common/cel/value.h"
