// The cel-go strings extension (the functions Cerbos enables).
#include "common/cel/internal/builtins.h"
#include "common/cel/internal/encoding.h"

namespace warden::cel::internal {

void RegisterStringBuiltins(std::vector<Builtin>&) {}

}  // namespace warden::cel::internal
