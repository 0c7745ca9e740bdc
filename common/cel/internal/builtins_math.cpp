// The cel-go math extension.
#include "common/cel/internal/builtins.h"

namespace warden::cel::internal {

void RegisterMathBuiltins(std::vector<Builtin>&) {}

}  // namespace warden::cel::internal
