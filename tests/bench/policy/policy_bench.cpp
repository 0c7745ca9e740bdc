// Policy engine benchmarks: a pure RBAC decision (with heap allocations counted: the target is
// zero), a decision with two derived roles and a three-clause CEL condition, a batch of 20
// resources, and compiling 1,000 policies.
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "common/policy/policy_set.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace warden;
using namespace warden::policy;

namespace {

const char* kDerived = R"(apiVersion: api.cerbos.dev/v1
derivedRoles:
  name: doc_roles
  definitions:
    - name: owner
      parentRoles: ["user"]
      condition:
        match:
          expr: R.attr.owner == P.id
    - name: team_lead
      parentRoles: ["manager"]
      condition:
        match:
          expr: R.attr.team == P.attr.team
)";

const char* kDoc = R"(apiVersion: api.cerbos.dev/v1
resourcePolicy:
  resource: doc
  version: default
  importDerivedRoles: [doc_roles]
  rules:
    - name: admin
      actions: ["*"]
      effect: EFFECT_ALLOW
      roles: ["admin"]
    - name: read
      actions: ["view", "list"]
      effect: EFFECT_ALLOW
      roles: ["viewer", "user", "manager"]
    - name: write
      actions: ["edit"]
      effect: EFFECT_ALLOW
      roles: ["editor"]
    - name: no-purge
      actions: ["purge"]
      effect: EFFECT_DENY
      roles: ["user"]
    - name: approve
      actions: ["approve"]
      effect: EFFECT_ALLOW
      derivedRoles: ["owner", "team_lead"]
      condition:
        match:
          expr: R.attr.status == "OPEN" && R.attr.amount < 1000.0 && P.attr.department in ["sales", "eng"]
)";

std::shared_ptr<const PolicySet> Set() {
  static auto set = *PolicySet::Compile({{"derived.yaml", kDerived}, {"doc.yaml", kDoc}});
  return set;
}

Principal User() {
  Principal p;
  p.id = "alice";
  p.roles = {"user"};
  p.attr = cel::FromJson({{"department", "sales"}, {"team", "blue"}});
  return p;
}

Resource Doc(int i) {
  Resource r;
  r.kind = "doc";
  r.id = "doc" + std::to_string(i);
  r.attr = cel::FromJson({{"owner", i % 2 == 0 ? "alice" : "bob"}, {"team", "blue"}, {"status", "OPEN"}, {"amount", 250}});
  return r;
}

void BM_RbacDecision(benchmark::State& state) {
  auto set = Set();
  const Principal p = User();
  const Resource r = Doc(1);
  const std::vector<std::string> actions = {"view"};
  Decision d;
  set->Decide(p, r, actions, {}, d);  // warm the Decision's capacity
  if (d.actions[0].effect != Effect::kAllow) state.SkipWithError("expected ALLOW");
  const uint64_t before = g_allocations.load();
  for (auto _ : state) {
    set->Decide(p, r, actions, {}, d);
    benchmark::DoNotOptimize(d.actions.data());
  }
  state.counters["allocs_per_decision"] =
      static_cast<double>(g_allocations.load() - before) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_RbacDecision);

void BM_DerivedRolesAndCondition(benchmark::State& state) {
  auto set = Set();
  Principal p = User();
  // "owner" (via user) is evaluated and fails, then "team_lead" (via manager) holds and the
  // rule's three-clause condition is evaluated: two derived roles and one condition per decision.
  p.roles = {"user", "manager"};
  const Resource r = Doc(1);
  const std::vector<std::string> actions = {"approve"};
  Decision d;
  DecideOptions check;
  check.effective_derived_roles = true;
  set->Decide(p, r, actions, check, d);
  if (d.actions[0].effect != Effect::kAllow || d.effective_derived_roles.size() != 1) {
    state.SkipWithError("expected ALLOW through team_lead");
  }
  const uint64_t before = g_allocations.load();
  for (auto _ : state) {
    set->Decide(p, r, actions, {}, d);
    benchmark::DoNotOptimize(d.actions.data());
  }
  state.counters["allocs_per_decision"] =
      static_cast<double>(g_allocations.load() - before) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_DerivedRolesAndCondition);

void BM_Batch20Resources(benchmark::State& state) {
  auto set = Set();
  const Principal p = User();
  std::vector<Resource> resources;
  for (int i = 0; i < 20; ++i) resources.push_back(Doc(i));
  const std::vector<std::string> actions = {"view", "edit", "approve"};
  std::vector<Decision> out(resources.size());
  for (auto _ : state) {
    for (size_t i = 0; i < resources.size(); ++i) set->Decide(p, resources[i], actions, {}, out[i]);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 20);
}
BENCHMARK(BM_Batch20Resources);

void BM_Compile1000Policies(benchmark::State& state) {
  std::vector<SourceDocument> docs = {{"derived.yaml", kDerived}};
  for (int i = 0; i < 1000; ++i) {
    std::string text = kDoc;
    text.replace(text.find("resource: doc"), 13, "resource: kind" + std::to_string(i));
    docs.push_back({"kind" + std::to_string(i) + ".yaml", std::move(text)});
  }
  for (auto _ : state) {
    auto set = PolicySet::Compile(docs);
    if (!set.ok()) state.SkipWithError(set.status().message().c_str());
    benchmark::DoNotOptimize(set);
  }
}
BENCHMARK(BM_Compile1000Policies)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
