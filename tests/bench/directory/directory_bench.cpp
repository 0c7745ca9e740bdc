// Directory engine benchmarks on the generated drive graph (drive_graph.h, ~1M relations).
// Results are recorded in docs/directory.md ("Performance").

// GCC 12 reports a false -Wrestrict on `"literal" + std::to_string(...)` (GCC bug 105329).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wrestrict"
#endif
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "common/directory/checker.h"
#include "common/directory/lookup.h"
#include "common/directory/snapshot.h"
#include "drive_graph.h"

using namespace warden::directory;
using warden::directory::bench::DriveGraph;

namespace {

double ResidentMb() {
  malloc_trim(0);
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

ManifestSource DriveManifest() {
  std::ifstream in(std::string(WARDEN_SOURCE_DIR) + "/tests/conformance/spicedb/manifest.yaml");
  std::ostringstream s;
  s << in.rdbuf();
  return {ManifestSource::Format::kYaml, s.str(), "manifest.yaml"};
}

std::shared_ptr<const DirectorySnapshot> BuildSnapshot(const DriveGraph& g) {
  auto builder = DirectorySnapshot::Builder::Create(DriveManifest());
  if (!builder.ok()) std::abort();
  for (const RelationTuple& r : g.relations) {
    if (!builder->AddRelation(r).ok()) std::abort();
  }
  return builder->Build(1);
}

std::unique_ptr<DriveGraph> Generate(double& rss_mb) {
  double before = ResidentMb();
  auto graph = std::make_unique<DriveGraph>();
  rss_mb = ResidentMb() - before;
  return graph;
}

struct Fixture {
  double rss_graph_mb = 0, rss_index_mb = 0, build_seconds = 0;  // declared first: set while graph_owner initialises
  std::unique_ptr<DriveGraph> graph_owner;
  const DriveGraph& graph;
  std::shared_ptr<const DirectorySnapshot> snap;
  std::vector<CheckRequest> direct, five_hop, denied;
  std::string lookup_user;
  size_t lookup_count = 0;

  Fixture() : graph_owner(Generate(rss_graph_mb)), graph(*graph_owner) {
    double mid = ResidentMb();
    auto t0 = std::chrono::steady_clock::now();
    snap = BuildSnapshot(graph);
    build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rss_index_mb = ResidentMb() - mid;

    for (const RelationTuple& r : graph.relations) {
      if (r.object_type == "document" && r.relation == "owner") {
        direct.push_back({"document", r.object_id, "owner", "user", r.subject_id, "", false});
        if (direct.size() == 256) break;
      }
    }
    // Five tuples: document#parent@folder(level 1), folder#parent@root, root#viewer@group(level 1)#member,
    // group#member@group(level 0)#member, group#member@user.
    for (int d = 0; d < DriveGraph::kDocuments && five_hop.size() < 256; ++d) {
      int f = graph.document_folder[d];
      if (graph.folder_level[f] != 1) continue;
      int root = graph.folder_parent[f];
      int g1 = graph.folder_viewer_group[root];
      if (g1 < DriveGraph::kGroupsPerLevel || g1 >= 2 * DriveGraph::kGroupsPerLevel) continue;
      for (int g0 = 0; g0 < DriveGraph::kGroupsPerLevel && five_hop.size() < 256; ++g0) {
        const auto& parents = graph.group_parents[g0];
        if (std::find(parents.begin(), parents.end(), g1) == parents.end()) continue;
        for (int u = 0; u < DriveGraph::kUsers; ++u) {
          const auto& ug = graph.user_groups[u];
          if (std::find(ug.begin(), ug.end(), g0) != ug.end()) {
            CheckRequest req{"document", DriveGraph::D(d), "view", "user", DriveGraph::U(u), "", false};
            if (Check(*snap, req)->allowed) five_hop.push_back(req);
            break;
          }
        }
        break;
      }
    }
    for (int d = 0, u = 17; d < DriveGraph::kDocuments && denied.size() < 256; ++d) {
      if (graph.folder_level[graph.document_folder[d]] != 5) continue;
      CheckRequest req{"document", DriveGraph::D(d), "view", "user", DriveGraph::U(u), "", false};
      u = (u + 7919) % DriveGraph::kUsers;
      if (!Check(*snap, req)->allowed) denied.push_back(req);
    }
    // The user, among a sample, whose visible documents are closest to 10,000.
    long best = -1;
    for (int u = 0; u < 10000; u += 250) {
      auto r = LookupResources(*snap, {"user", DriveGraph::U(u), "", "view", "document", 0, ""});
      long n = static_cast<long>(r->ids.size());
      if (best < 0 || std::labs(n - 10000) < std::labs(best - 10000)) {
        best = n;
        lookup_user = DriveGraph::U(u);
      }
    }
    lookup_count = static_cast<size_t>(best);
    std::fprintf(stderr, "lookup user %s sees %zu documents\n", lookup_user.c_str(), lookup_count);
  }
};

Fixture& F() {
  static Fixture* f = new Fixture();
  return *f;
}

void RunChecks(benchmark::State& state, const std::vector<CheckRequest>& probes, bool want) {
  Fixture& f = F();
  if (probes.empty()) {
    state.SkipWithError("no probes found in the generated graph");
    return;
  }
  size_t i = 0, wrong = 0, trace_steps = 0;
  for (auto _ : state) {
    auto r = Check(*f.snap, probes[i++ % probes.size()]);
    wrong += r->allowed != want;
    benchmark::DoNotOptimize(r);
  }
  CheckRequest traced = probes[0];
  traced.trace = true;
  trace_steps = Check(*f.snap, traced)->trace.size();
  state.counters["probes"] = static_cast<double>(probes.size());
  state.counters["wrong_answers"] = static_cast<double>(wrong);
  state.counters["trace_steps"] = static_cast<double>(trace_steps);
  state.counters["relations"] = static_cast<double>(f.snap->relation_count());
}

void BM_CheckDirectRelation(benchmark::State& state) { RunChecks(state, F().direct, true); }
void BM_Check5Hops(benchmark::State& state) { RunChecks(state, F().five_hop, true); }
void BM_CheckDeniedDeep(benchmark::State& state) { RunChecks(state, F().denied, false); }

void BM_LookupResources10k(benchmark::State& state) {
  Fixture& f = F();
  size_t n = 0;
  for (auto _ : state) {
    auto r = LookupResources(*f.snap, {"user", f.lookup_user, "", "view", "document", 0, ""});
    n = r->ids.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["results"] = static_cast<double>(n);
}

void BM_BuildFromScratch(benchmark::State& state) {
  Fixture& f = F();
  for (auto _ : state) {
    auto snap = BuildSnapshot(f.graph);
    benchmark::DoNotOptimize(snap);
    state.PauseTiming();
    snap.reset();
    state.ResumeTiming();
  }
  state.counters["relations"] = static_cast<double>(f.graph.relations.size());
}

void BM_Apply1000Changes(benchmark::State& state) {
  Fixture& f = F();
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ChangeBatch batch;
    for (int i = 0; i < 500; ++i) {
      batch.changes.push_back(Change::SetRelation(
          {"document", DriveGraph::D((round * 500 + i) * 13 % DriveGraph::kDocuments), "viewer", "user",
           "new-user-" + std::to_string(round) + "-" + std::to_string(i), ""}));
      batch.changes.push_back(Change::DeleteRelation(f.graph.relations[(round * 500 + i) * 1999 % f.graph.relations.size()]));
    }
    ++round;
    state.ResumeTiming();
    auto next = f.snap->Apply(batch);
    if (!next.ok()) state.SkipWithError(next.status().ToString().c_str());
    benchmark::DoNotOptimize(next);
    state.PauseTiming();
    next = warden::Status::Internal("dropped");  // free the new revision outside the timing
    state.ResumeTiming();
  }
}

void BM_ResidentMemory(benchmark::State& state) {
  Fixture& f = F();
  for (auto _ : state) benchmark::DoNotOptimize(f.snap);
  state.counters["index_rss_mb"] = f.rss_index_mb;
  state.counters["input_tuples_rss_mb"] = f.rss_graph_mb;
  state.counters["first_build_s"] = f.build_seconds;
  state.counters["relations"] = static_cast<double>(f.snap->relation_count());
}

BENCHMARK(BM_ResidentMemory)->Iterations(1);
BENCHMARK(BM_CheckDirectRelation);
BENCHMARK(BM_Check5Hops);
BENCHMARK(BM_CheckDeniedDeep);
BENCHMARK(BM_LookupResources10k)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Apply1000Changes)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BuildFromScratch)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
