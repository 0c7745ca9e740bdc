// Replays a Cerbos oracle corpus (policies/, checks.jsonl, plans.jsonl) against Warden's policy
// engine: every check decision (and output, where the corpus records them) must match what the
// real Cerbos server answered, and every plan must mean the same as Cerbos's plan.
//
// Plans are compared by meaning: same kind, and for conditional plans both conditions give the
// same answer on every generated resource. Resources are generated from the attribute names the
// two conditions read, each taking every value that appears in the conditions and in the
// corpus's check requests for that resource kind, or being absent.
//
// Usage: cerbos_conformance <corpus dir>. Exit status 0 only when everything matches.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "common/policy/cerbos_api.h"
#include "common/policy/folder.h"
#include "common/policy/plan_filter.h"

using json = nlohmann::json;
using namespace warden::policy;

namespace {

std::vector<json> ReadJsonl(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

// Attribute names (first segment under request.resource.attr) a filter condition reads.
void CollectAttrs(const json& node, std::set<std::string>& attrs, std::vector<json>& values) {
  if (node.is_object()) {
    if (node.contains("variable") && node["variable"].is_string()) {
      const std::string v = node["variable"].get<std::string>();
      const std::string prefix = "request.resource.attr.";
      if (v.rfind(prefix, 0) == 0) {
        const std::string rest = v.substr(prefix.size());
        attrs.insert(rest.substr(0, rest.find('.')));
      }
    }
    if (node.contains("value")) values.push_back(node["value"]);
    for (auto& [k, v] : node.items()) {
      if (k != "value") CollectAttrs(v, attrs, values);
    }
  } else if (node.is_array()) {
    for (const auto& v : node) CollectAttrs(v, attrs, values);
  }
}

struct Counts {
  int checked = 0, check_fail = 0, decisions = 0, decision_fail = 0, outputs = 0, output_fail = 0;
  int plans = 0, plan_fail = 0, resources_tried = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: cerbos_conformance <corpus dir>\n";
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<LoadError> errors;
  auto set = LoadPolicyFolder(dir + "/policies", {}, &errors);
  if (!set.ok()) {
    std::cerr << set.status().message() << "\n";
    return 1;
  }
  Counts c;
  int shown = 0;
  auto show = [&](const std::string& s) {
    if (++shown <= 40) std::cout << "MISMATCH " << s << "\n";
  };

  // Per kind: attribute name -> values seen in check requests (for plan resource generation).
  std::map<std::string, std::map<std::string, std::vector<json>>> seen_values;
  const auto checks = ReadJsonl(dir + "/checks.jsonl");
  for (const auto& line : checks) {
    const json& request = line["request"];
    for (const auto& r : request["resources"]) {
      const json attr = r["resource"].value("attr", json::object());
      const std::string kind = r["resource"]["kind"].get<std::string>();
      for (auto& [k, v] : attr.items()) {
        auto& vals = seen_values[kind][k];
        if (std::find(vals.begin(), vals.end(), v) == vals.end()) vals.push_back(v);
      }
    }
    auto parsed = ParseCheckResourcesRequest(request);
    ++c.checked;
    if (!parsed.ok()) {
      ++c.check_fail;
      show(request.value("requestId", "?") + ": request rejected: " + parsed.status().message());
      continue;
    }
    DecideOptions options;
    options.now = CurrentTime();  // the corpus's only now() comparisons are against 2001 and 2999
    const json response = CheckResources(**set, *parsed, options);
    const json& results = response["results"];
    bool ok = true;
    for (size_t i = 0; i < line["expected"].size(); ++i) {
      const json& want = line["expected"][i];
      const json& got = results[i];
      for (auto& [action, effect] : want["actions"].items()) {
        ++c.decisions;
        if (got["actions"].value(action, "") != effect.get<std::string>()) {
          ++c.decision_fail;
          ok = false;
          show(request.value("requestId", "?") + " " + want["resource"]["id"].get<std::string>() + " " + action +
               ": want " + effect.get<std::string>() + ", got " + got["actions"].value(action, "(none)"));
        }
      }
      if (want.contains("outputs")) {
        ++c.outputs;
        std::vector<std::string> w, g;
        for (const auto& o : want["outputs"]) w.push_back(o.dump());
        for (const auto& o : got.value("outputs", json::array())) g.push_back(o.dump());
        std::sort(w.begin(), w.end());
        std::sort(g.begin(), g.end());
        if (w != g) {
          ++c.output_fail;
          ok = false;
          show(request.value("requestId", "?") + " " + want["resource"]["id"].get<std::string>() + " outputs: want " +
               json(w).dump() + ", got " + json(g).dump());
        }
      }
    }
    if (!ok) ++c.check_fail;
  }

  const auto plans = ReadJsonl(dir + "/plans.jsonl");
  for (const auto& line : plans) {
    const json& request = line["request"];
    ++c.plans;
    auto parsed = ParsePlanResourcesRequest(request);
    if (!parsed.ok()) {
      ++c.plan_fail;
      show(request.value("requestId", "?") + ": plan request rejected: " + parsed.status().message());
      continue;
    }
    DecideOptions options;
    options.now = CurrentTime();
    const json got = PlanResources(**set, *parsed, options)["filter"];
    const json& want = line["expected"]["filter"];
    const std::string id = request.value("requestId", "?");
    if (got["kind"] != want["kind"]) {
      ++c.plan_fail;
      show(id + ": plan kind: want " + want.dump() + ", got " + got.dump());
      continue;
    }
    if (want["kind"] != "KIND_CONDITIONAL") continue;
    std::set<std::string> attrs;
    std::vector<json> values;
    CollectAttrs(want, attrs, values);
    CollectAttrs(got, attrs, values);
    const std::string kind = request["resource"]["kind"];
    std::vector<std::string> names(attrs.begin(), attrs.end());
    std::vector<std::vector<json>> domains;
    for (const auto& name : names) {
      std::vector<json> dom = {json(json::value_t::discarded)};  // discarded stands for "absent"
      auto add = [&](const json& v) {
        if (std::find(dom.begin(), dom.end(), v) == dom.end()) dom.push_back(v);
      };
      for (const auto& v : seen_values[kind][name]) add(v);
      for (const auto& v : values) {
        add(v);
        if (v.is_array()) {
          for (const auto& e : v) add(json::array({e}));
        }
      }
      domains.push_back(std::move(dom));
    }
    // Enumerate all combinations when few, else a fixed-seed sample plus one-at-a-time variations.
    double total = 1;
    for (const auto& d : domains) total *= static_cast<double>(d.size());
    std::vector<std::vector<size_t>> combos;
    if (total <= 20000) {
      std::vector<size_t> idx(domains.size(), 0);
      while (true) {
        combos.push_back(idx);
        size_t k = 0;
        while (k < idx.size() && ++idx[k] == domains[k].size()) idx[k++] = 0;
        if (k == idx.size()) break;
      }
    } else {
      std::mt19937 rng(42);
      for (int n = 0; n < 20000; ++n) {
        std::vector<size_t> idx;
        for (const auto& d : domains) idx.push_back(std::uniform_int_distribution<size_t>(0, d.size() - 1)(rng));
        combos.push_back(idx);
      }
    }
    bool ok = true;
    for (const auto& idx : combos) {
      json attr = json::object();
      for (size_t k = 0; k < names.size(); ++k) {
        if (!domains[k][idx[k]].is_discarded()) attr[names[k]] = domains[k][idx[k]];
      }
      const json resource = {{"id", "generated"}, {"kind", kind}, {"attr", attr}};
      ++c.resources_tried;
      auto w = FilterAdmits(want, resource);
      auto g = FilterAdmits(got, resource);
      if (!w.ok() || !g.ok() || *w != *g) {
        ok = false;
        show(id + ": plans differ on resource " + attr.dump() + ": want " + (w.ok() ? (*w ? "allow" : "deny") : w.status().message()) +
             ", got " + (g.ok() ? (*g ? "allow" : "deny") : g.status().message()) + "\n  want " + want.dump() +
             "\n  got  " + got.dump());
        break;
      }
    }
    if (!ok) ++c.plan_fail;
  }

  std::cout << "checks: " << c.checked - c.check_fail << " passed, " << c.check_fail << " failed (" << c.decisions
            << " action decisions, " << c.decision_fail << " wrong; " << c.outputs << " output lists, " << c.output_fail
            << " wrong)\n";
  std::cout << "plans: " << c.plans - c.plan_fail << " passed, " << c.plan_fail << " failed (" << c.resources_tried
            << " generated resources compared)\n";
  return c.check_fail == 0 && c.plan_fail == 0 ? 0 : 1;
}
