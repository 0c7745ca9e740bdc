// Activation: everything one evaluation sees besides the compiled Program.
//
// Variable bindings (name -> Value), the attribute paths that are unknown (for partial
// evaluation), the directory to answer `check(...)`, the instant `now()` returns, and the cost
// limit. An Activation is cheap to build per request: binding does not allocate for the first
// eight variables, and lookups never allocate.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/cel/value.h"
#include "common/model/relation_oracle.h"

namespace warden::cel {

class Activation {
 public:
  Activation() = default;

  // Binds `name` (a declared variable, possibly dotted) to `value`, replacing an earlier binding.
  // The activation keeps `name` as a view: the characters must outlive it (string literals or
  // names owned by the compiled policy are the usual case).
  Activation& Bind(std::string_view name, Value value);
  // The bound value, or nullptr.
  const Value* Find(std::string_view name) const;

  // Partial evaluation: marks the attribute at `path` (a variable name optionally followed by
  // `.field`s, e.g. "R" or "request.resource") and everything under it as unknown. Residual
  // expressions render such attributes with `canonical` in place of `path` (e.g. path "R",
  // canonical "request.resource", so `R.attr.x` renders as "request.resource.attr.x"); empty
  // means `path` itself. Evaluate sees such an attribute as an unknown Value, which propagates
  // like an error and is absorbed by `&&`/`||` when the other side decides.
  Activation& MarkUnknown(std::string path, std::string canonical = {});
  struct UnknownPath {
    std::string path;
    std::string canonical;
  };
  const std::vector<UnknownPath>& unknown_paths() const { return unknown_; }

  // The directory that `check(...)` asks; nullptr (the default) makes `check` an error value.
  Activation& set_oracle(const RelationOracle* oracle) {
    oracle_ = oracle;
    return *this;
  }
  const RelationOracle* oracle() const { return oracle_; }

  // The instant `now()` returns, fixed for the whole evaluation so that a decision is
  // consistent and tests are deterministic. Defaults to the Unix epoch: callers set it per request.
  Activation& set_now(Timestamp now) {
    now_ = now;
    return *this;
  }
  Timestamp now() const { return now_; }

  // The evaluation cost budget: roughly one unit per node visited, per comprehension iteration
  // and per 64 bytes of string or list built. Exceeding it makes the result an error value
  // "cost limit exceeded"; evaluation stops promptly.
  Activation& set_max_cost(uint64_t max_cost) {
    max_cost_ = max_cost;
    return *this;
  }
  uint64_t max_cost() const { return max_cost_; }

 private:
  static constexpr size_t kInline = 8;
  std::array<std::pair<std::string_view, Value>, kInline> inline_{};
  size_t inline_size_ = 0;
  std::vector<std::pair<std::string_view, Value>> overflow_;
  std::vector<UnknownPath> unknown_;
  const RelationOracle* oracle_ = nullptr;
  Timestamp now_{};
  uint64_t max_cost_ = 1'000'000;
};

}  // namespace warden::cel
