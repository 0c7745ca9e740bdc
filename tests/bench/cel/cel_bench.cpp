// Evaluation cost of the conditions policies use most, with allocation counts.
//
// The headline case is the policy engine's: a three-clause condition over bindings that are
// already Values, evaluated against a Program compiled once. allocs/eval is reported as a counter
// (operator new is counted process-wide; the benchmark loop is the only thing running).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include <nlohmann/json.hpp>

#include "common/cel/cel.h"

namespace {

std::atomic<uint64_t> g_allocations{0};

}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using warden::cel::Activation;
using warden::cel::CompileOptions;
using warden::cel::Value;

std::shared_ptr<const warden::cel::Program> MustCompile(const char* source) {
  CompileOptions options;
  options.variables = {"R", "P", "request", "V", "C", "runtime"};
  auto program = warden::cel::Compile(source, options);
  if (!program.ok()) {
    std::fprintf(stderr, "compile failed: %s\n", program.status().ToString().c_str());
    std::abort();
  }
  return *program;
}

Activation MakeActivation() {
  Activation act;
  act.Bind("R", warden::cel::FromJson(nlohmann::json::parse(
                    R"({"kind": "expense", "id": "e1", "attr": {"owner": "alice", "amount": 250, "status": "OPEN",
                        "tags": ["travel", "team-sre", "q3"]}})")));
  act.Bind("P", warden::cel::FromJson(nlohmann::json::parse(
                    R"({"id": "alice", "roles": ["user"], "attr": {"department": "a", "team": "sre"}})")));
  return act;
}

void RunEval(benchmark::State& state, const char* source, bool expect_true) {
  auto program = MustCompile(source);
  Activation act = MakeActivation();
  if (warden::cel::Evaluate(*program, act).bool_value() != expect_true) {
    state.SkipWithError("unexpected result");
    return;
  }
  uint64_t before = g_allocations.load();
  for (auto _ : state) {
    Value v = warden::cel::Evaluate(*program, act);
    benchmark::DoNotOptimize(v);
  }
  state.counters["allocs/eval"] =
      benchmark::Counter(double(g_allocations.load() - before) / double(state.iterations()));
}

void BM_ThreeClauseCondition(benchmark::State& state) {
  RunEval(state, R"(R.attr.owner == P.id && R.attr.amount < 1000.0 && P.attr.department in ["a","b"])", true);
}
BENCHMARK(BM_ThreeClauseCondition);

void BM_SingleComparison(benchmark::State& state) { RunEval(state, "R.attr.owner == P.id", true); }
BENCHMARK(BM_SingleComparison);

void BM_ExistsMacro(benchmark::State& state) {
  RunEval(state, R"(R.attr.tags.exists(t, t.startsWith("team-" + P.attr.team)))", true);
}
BENCHMARK(BM_ExistsMacro);

void BM_Matches(benchmark::State& state) { RunEval(state, R"(R.attr.status.matches("^(OPEN|CLOSED)$"))", true); }
BENCHMARK(BM_Matches);

void BM_Compile(benchmark::State& state) {
  for (auto _ : state) {
    auto p = MustCompile(R"(R.attr.owner == P.id && R.attr.amount < 1000.0 && P.attr.department in ["a","b"])");
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_Compile);

void BM_PartialEvaluate(benchmark::State& state) {
  auto program = MustCompile(R"(R.attr.owner == P.id && R.attr.amount < 1000.0 && P.attr.department in ["a","b"])");
  Activation act = MakeActivation();
  act.MarkUnknown("R", "request.resource");
  for (auto _ : state) {
    auto r = warden::cel::PartialEvaluate(*program, act);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_PartialEvaluate);

}  // namespace

BENCHMARK_MAIN();
