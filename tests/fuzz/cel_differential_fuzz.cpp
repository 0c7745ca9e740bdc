// Differential fuzzing of CEL and policy decisions: the fuzzer's bytes drive the generator in
// tests/differential/ (instead of a seeded generator, as in unit_differential), and any
// disagreement between Warden and the reference aborts with the case printed.
// Input: one byte choosing expression (even) or policy (odd), then the generator's choices.
// Properties: Warden and the reference agree on every generated expression and policy.
#include <cstdio>
#include <cstdlib>

// Built into this target by inclusion, like unit_differential: warden_fuzz_target takes one source.
#include "tests/differential/reference.cpp"
#include "tests/fuzz/fuzz_input.h"

namespace {

class FuzzEntropy final : public warden::differential::Entropy {
 public:
  explicit FuzzEntropy(warden::fuzz::FuzzInput& in) : in_(in) {}
  uint64_t Below(uint64_t n) override { return n <= 1 ? 0 : in_.Range(0, n - 1); }

 private:
  warden::fuzz::FuzzInput& in_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  warden::fuzz::FuzzInput in(data, size);
  bool policy = in.Bool();
  FuzzEntropy entropy(in);
  auto mismatch = policy ? warden::differential::CheckOnePolicy(entropy) : warden::differential::CheckOneExpression(entropy);
  if (mismatch) {
    std::fprintf(stderr, "Warden and the reference disagree:\n%s", mismatch->c_str());
    std::abort();
  }
  return 0;
}
