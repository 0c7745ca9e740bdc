#include <algorithm>
#include <string>
#include <unordered_map>

#include "common/cel/internal/builtins.h"

namespace warden::cel::internal {
namespace {

struct Registry {
  std::vector<Builtin> all;
  std::unordered_multimap<std::string_view, const Builtin*> by_name;
  Registry() {
    RegisterCoreBuiltins(all);
    RegisterStringBuiltins(all);
    RegisterTimeBuiltins(all);
    RegisterMathBuiltins(all);
    RegisterCerbosBuiltins(all);
    RegisterNetworkBuiltins(all);
    RegisterOptionalBuiltins(all);
    for (const auto& b : all) by_name.emplace(b.name, &b);
  }
};

const Registry& GetRegistry() {
  static const Registry registry;
  return registry;
}

}  // namespace

const Builtin* FindBuiltin(std::string_view name, bool receiver, size_t nargs) {
  auto [begin, end] = GetRegistry().by_name.equal_range(name);
  for (auto it = begin; it != end; ++it) {
    const Builtin* b = it->second;
    if (receiver ? !b->receiver : !b->global) continue;
    if (static_cast<int>(nargs) < b->min_args || static_cast<int>(nargs) > b->max_args) continue;
    return b;
  }
  return nullptr;
}

bool HasBuiltinNamed(std::string_view name) { return GetRegistry().by_name.count(name) > 0; }

}  // namespace warden::cel::internal
