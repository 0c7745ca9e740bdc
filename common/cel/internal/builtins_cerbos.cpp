// Cerbos's CEL extensions and Warden's directory check().
#include "common/cel/internal/builtins.h"

namespace warden::cel::internal {

void RegisterCerbosBuiltins(std::vector<Builtin>&) {}

}  // namespace warden::cel::internal
