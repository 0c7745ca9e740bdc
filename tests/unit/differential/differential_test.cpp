// Differential test: random CEL expressions and random resource policies, answered by Warden and by
// the simple reference in tests/differential/ (what is compared and the subset: its README.md).
// Seeds are fixed, so a failure reproduces; each failing case prints the expression or policy, the
// bindings or request, and both answers. The fuzz target fuzz_cel_differential drives the same
// generator from libFuzzer's bytes.
//
// The unit test glob builds only tests/unit/<component>/*.cpp, so the shared generator comes in by
// inclusion (the fuzz target includes it the same way).
#include "tests/differential/reference.cpp"

#include <chrono>
#include <cstdlib>

#include <doctest/doctest.h>

namespace warden::differential {
namespace {

constexpr uint64_t kSeed = 0x5eed'd1ff'0000'0001ULL;

// WARDEN_DIFFERENTIAL_SCALE=N runs N times as many cases (the first ones are the same), for a
// longer hunt than ctest's few seconds.
int Scale() {
  const char* scale = std::getenv("WARDEN_DIFFERENTIAL_SCALE");
  int n = scale ? std::atoi(scale) : 1;
  return n > 0 ? n : 1;
}

TEST_CASE("random CEL expressions: Warden agrees with the reference evaluator") {
  const int kCases = 20'000 * Scale();
  Tally tally;
  int failures = 0;
  auto start = std::chrono::steady_clock::now();
  for (int n = 0; n < kCases; ++n) {
    SeededEntropy entropy(kSeed + static_cast<uint64_t>(n));
    if (auto mismatch = CheckOneExpression(entropy, &tally)) {
      ++failures;
      if (failures <= 10) FAIL_CHECK("case " << n << " (seed base + " << n << ")\n" << *mismatch);
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE(kCases << " expressions in " << seconds << " s: " << tally.values << " values, " << tally.errors
                 << " errors, " << failures << " disagreements");
  CHECK(failures == 0);
  // The generator must reach both outcomes in earnest, or the comparison proves little.
  CHECK(tally.values > kCases / 4);
  CHECK(tally.errors > kCases / 20);
}

TEST_CASE("random resource policies: PolicySet::Decide agrees with the reference decision") {
  const int kCases = 2'000 * Scale();
  Tally tally;
  int failures = 0;
  auto start = std::chrono::steady_clock::now();
  for (int n = 0; n < kCases; ++n) {
    SeededEntropy entropy(kSeed ^ (0x9000'0000ULL + static_cast<uint64_t>(n)));
    if (auto mismatch = CheckOnePolicy(entropy, &tally)) {
      ++failures;
      if (failures <= 10) FAIL_CHECK("case " << n << "\n" << *mismatch);
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE(kCases << " policies in " << seconds << " s: " << tally.allows << " allows, " << tally.denies
                 << " denies, " << failures << " disagreements");
  CHECK(failures == 0);
  CHECK(tally.allows > tally.denies / 10);
}

}  // namespace
}  // namespace warden::differential
