#include "common/policy/test_suite.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "common/policy/cerbos_api.h"
#include "common/policy/folder.h"
#include "common/policy/yaml_json.h"

namespace warden::policy {

namespace fs = std::filesystem;

namespace {

struct SuiteError {
  std::string file;
  YAML::Mark mark;
  std::string message;
  std::string ToString() const {
    if (mark.line < 0) return file + ": " + message;
    return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ": " + message;
  }
};

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsSuiteFile(const std::string& rel) {
  const std::string name = fs::path(rel).filename().string();
  return EndsWith(name, "_test.yaml") || EndsWith(name, "_test.yml") || EndsWith(name, "_test.json");
}

// Output values compare as CEL sees them: every number a double.
nlohmann::json NumbersAsDoubles(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : v) out.push_back(NumbersAsDoubles(e));
    return out;
  }
  if (v.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto& [k, e] : v.items()) out[k] = NumbersAsDoubles(e);
    return out;
  }
  return v;
}

cel::Value Attr(const YAML::Node& n) {
  if (!n || n.IsNull()) return cel::Value::Map({});
  return cel::FromJson(YamlToJson(n));
}

std::string Scalar(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : std::string(); }

class SuiteRunner {
 public:
  SuiteRunner(const PolicySet& set, TestReport& report) : set_(set), report_(report) {}

  // Fixtures from a `testdata` folder: principals.yaml / resources.yaml (also .yml / .json).
  void LoadTestdata(const std::string& folder) {
    for (const char* what : {"principals", "resources"}) {
      for (const char* ext : {".yaml", ".yml", ".json"}) {
        const fs::path p = fs::path(folder) / "testdata" / (std::string(what) + ext);
        std::error_code ec;
        if (!fs::exists(p, ec)) continue;
        std::ifstream in(p);
        std::stringstream text;
        text << in.rdbuf();
        YAML::Node root;
        try {
          root = YAML::Load(text.str());
        } catch (const YAML::Exception& e) {
          Error(p.string(), e.mark, "syntax error: " + e.msg);
          continue;
        }
        if (!root.IsMap() || !root[what] || !root[what].IsMap()) {
          Error(p.string(), root.Mark(), std::string("must be a mapping with a '") + what + "' mapping");
          continue;
        }
        const bool principals = std::string(what) == "principals";
        for (const auto& kv : root[what]) {
          if (principals) {
            ParsePrincipal(p.string(), kv.first.Scalar(), kv.second, shared_principals_);
          } else {
            ParseResource(p.string(), kv.first.Scalar(), kv.second, shared_resources_);
          }
        }
      }
    }
  }

  void RunSuite(const SourceDocument& doc) {
    YAML::Node root;
    try {
      root = YAML::Load(doc.text);
    } catch (const YAML::Exception& e) {
      Error(doc.path, e.mark, "syntax error: " + e.msg);
      return;
    }
    if (!root.IsMap()) {
      Error(doc.path, root.Mark(), "a test suite must be a mapping");
      return;
    }
    for (const auto& kv : root) {
      const std::string k = kv.first.Scalar();
      if (k != "name" && k != "description" && k != "principals" && k != "resources" && k != "tests" &&
          k != "options" && k != "auxData" && k != "skip" && k != "skipReason" && k != "principalGroups" &&
          k != "resourceGroups") {
        Error(doc.path, kv.first.Mark(), "unknown field '" + k + "' in test suite");
      }
    }
    const std::string suite = root["name"] ? Scalar(root["name"]) : doc.path;
    auto principals = shared_principals_;
    auto resources = shared_resources_;
    if (root["principals"]) {
      if (!root["principals"].IsMap()) {
        Error(doc.path, root["principals"].Mark(), "principals: must be a mapping of name to principal");
      } else {
        for (const auto& kv : root["principals"]) ParsePrincipal(doc.path, kv.first.Scalar(), kv.second, principals);
      }
    }
    if (root["resources"]) {
      if (!root["resources"].IsMap()) {
        Error(doc.path, root["resources"].Mark(), "resources: must be a mapping of name to resource");
      } else {
        for (const auto& kv : root["resources"]) ParseResource(doc.path, kv.first.Scalar(), kv.second, resources);
      }
    }
    DecideOptions options;
    options.now = CurrentTime();
    if (root["options"] && root["options"]["now"]) {
      const cel::Value t = ParseTime(Scalar(root["options"]["now"]));
      if (t.kind() != cel::Kind::kTimestamp) {
        Error(doc.path, root["options"]["now"].Mark(), "options.now: must be an RFC 3339 timestamp");
      } else {
        options.now = t.timestamp_value();
      }
    }
    const bool suite_skipped = root["skip"] && Scalar(root["skip"]) == "true";
    const YAML::Node tests = root["tests"];
    if (!tests || !tests.IsSequence()) {
      Error(doc.path, (tests ? tests : root).Mark(), "tests: must be a list");
      return;
    }
    for (size_t ti = 0; ti < tests.size(); ++ti) {
      const YAML::Node t = tests[ti];
      const std::string test = t["name"] ? Scalar(t["name"]) : "tests[" + std::to_string(ti) + "]";
      const YAML::Node input = t["input"];
      if (!input || !input.IsMap()) {
        Error(doc.path, t.Mark(), test + ": input: must be a mapping with principals, resources and actions");
        continue;
      }
      auto names = [&](const YAML::Node& n, const char* field) {
        std::vector<std::string> out;
        if (!n || !n.IsSequence() || n.size() == 0) {
          Error(doc.path, (n ? n : input).Mark(), test + ": input." + field + ": must be a non-empty list");
          return out;
        }
        for (const auto& x : n) out.push_back(Scalar(x));
        return out;
      };
      const auto in_principals = names(input["principals"], "principals");
      const auto in_resources = names(input["resources"], "resources");
      const auto in_actions = names(input["actions"], "actions");
      // expected: (principal, resource) -> action -> effect
      std::map<std::pair<std::string, std::string>, std::map<std::string, std::string>> expected;
      // (principal, resource) -> expected outputs as (action, src, value)
      std::map<std::pair<std::string, std::string>, std::vector<std::tuple<std::string, std::string, nlohmann::json>>>
          expected_outputs;
      const YAML::Node exp = t["expected"];
      if (exp && !exp.IsSequence()) Error(doc.path, exp.Mark(), test + ": expected: must be a list");
      if (exp && exp.IsSequence()) {
        for (const auto& e : exp) {
          std::vector<std::string> ps, rs;
          if (e["principal"]) ps.push_back(Scalar(e["principal"]));
          if (e["principals"] && e["principals"].IsSequence()) {
            for (const auto& x : e["principals"]) ps.push_back(Scalar(x));
          }
          if (e["resource"]) rs.push_back(Scalar(e["resource"]));
          if (e["resources"] && e["resources"].IsSequence()) {
            for (const auto& x : e["resources"]) rs.push_back(Scalar(x));
          }
          if (ps.empty() || rs.empty() || !e["actions"] || !e["actions"].IsMap()) {
            Error(doc.path, e.Mark(), test + ": expected entries need principal, resource and an actions mapping");
            continue;
          }
          if (const YAML::Node outs = e["outputs"]) {
            if (!outs.IsSequence()) {
              Error(doc.path, outs.Mark(), test + ": expected outputs: must be a list of {action, expected}");
            } else {
              for (const auto& o : outs) {
                if (!o["action"] || !o["expected"] || !o["expected"].IsSequence()) {
                  Error(doc.path, o.Mark(), test + ": expected outputs: each entry needs action and an expected list");
                  continue;
                }
                for (const auto& x : o["expected"]) {
                  if (!x["src"]) {
                    Error(doc.path, x.Mark(), test + ": expected output needs src");
                    continue;
                  }
                  for (const auto& p : ps) {
                    for (const auto& r : rs) {
                      expected_outputs[{p, r}].emplace_back(Scalar(o["action"]), Scalar(x["src"]), YamlToJson(x["val"]));
                    }
                  }
                }
              }
            }
          }
          for (const auto& kv : e["actions"]) {
            const std::string eff = Scalar(kv.second);
            if (eff != "EFFECT_ALLOW" && eff != "EFFECT_DENY") {
              Error(doc.path, kv.second.Mark(), test + ": expected effect must be EFFECT_ALLOW or EFFECT_DENY");
              continue;
            }
            for (const auto& p : ps) {
              for (const auto& r : rs) expected[{p, r}][kv.first.Scalar()] = eff;
            }
          }
        }
      }
      const bool skipped = suite_skipped || (t["skip"] && Scalar(t["skip"]) == "true");
      for (const auto& pn : in_principals) {
        auto pi = principals.find(pn);
        if (pi == principals.end()) {
          Error(doc.path, input["principals"].Mark(), test + ": unknown principal '" + pn + "'");
          continue;
        }
        for (const auto& rn : in_resources) {
          auto rit = resources.find(rn);
          if (rit == resources.end()) {
            Error(doc.path, input["resources"].Mark(), test + ": unknown resource '" + rn + "'");
            continue;
          }
          if (skipped) {
            report_.skipped += static_cast<int>(in_actions.size());
            continue;
          }
          const Decision d = set_.Decide(pi->second, rit->second, in_actions, options);
          const auto& want_actions = expected[{pn, rn}];
          for (const auto& a : d.actions) {
            auto w = want_actions.find(std::string(a.action));
            const std::string want = w == want_actions.end() ? "EFFECT_DENY" : w->second;
            const std::string got = EffectName(a.effect);
            if (want == got) {
              ++report_.passed;
              continue;
            }
            ++report_.failed;
            TestFailure f{suite, test, pn, rn, std::string(a.action), want, got, {}};
            if (a.rule != nullptr) {
              f.detail = "decided by rule '" + std::string(RuleName(a)) + "' of " +
                         MatchedPolicy(a, pi->second, rit->second) + " (" + std::string(RuleFile(a)) + ")";
            } else if (a.matched != Matched::kNone) {
              f.detail = "no rule matched in " + MatchedPolicy(a, pi->second, rit->second) + ": default deny";
            } else {
              f.detail = "no policy covers this resource and principal: default deny";
            }
            report_.failures.push_back(std::move(f));
          }
          for (const auto& [action, src, val] : expected_outputs[{pn, rn}]) {
            std::string got = "(no such output)";
            bool ok = false;
            for (const auto& o : d.outputs) {
              if (o.action != action || o.src != src) continue;
              const nlohmann::json v = NumbersAsDoubles(cel::ToJson(o.value));
              got = v.dump();
              ok = ok || v == NumbersAsDoubles(val);
            }
            if (ok) {
              ++report_.passed;
              continue;
            }
            ++report_.failed;
            report_.failures.push_back(
                {suite, test, pn, rn, action, "output " + src + " = " + val.dump(), got, "outputs differ"});
          }
        }
      }
    }
  }

  const std::vector<SuiteError>& errors() const { return errors_; }

 private:
  static cel::Value ParseTime(const std::string& s) {
    // Reuse the CEL conversion: timestamp("...") semantics via FromJson are not available, so
    // parse the common RFC 3339 forms here.
    int y, mo, d, h, mi;
    double sec;
    char tz[16] = {0};
    if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%lf%15s", &y, &mo, &d, &h, &mi, &sec, tz) < 6) return {};
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = static_cast<int>(sec);
    int64_t secs = timegm(&tm);
    const std::string zone = tz;
    if (!zone.empty() && zone != "Z") {
      int oh = 0, om = 0;
      if (std::sscanf(zone.c_str() + 1, "%d:%d", &oh, &om) >= 1) {
        const int off = (oh * 60 + om) * 60;
        secs += zone[0] == '-' ? off : -off;
      }
    }
    return cel::Value::TimestampOf({secs, static_cast<int32_t>((sec - static_cast<int>(sec)) * 1e9)});
  }

  void Error(const std::string& file, const YAML::Mark& mark, std::string message) {
    errors_.push_back({file, mark, std::move(message)});
  }

  void ParsePrincipal(const std::string& file, const std::string& name, const YAML::Node& n,
                      std::map<std::string, Principal>& out) {
    if (!n.IsMap() || !n["id"] || !n["roles"] || !n["roles"].IsSequence()) {
      Error(file, n.Mark(), "principal '" + name + "': needs id and a roles list");
      return;
    }
    Principal p;
    p.id = Scalar(n["id"]);
    for (const auto& r : n["roles"]) p.roles.push_back(Scalar(r));
    p.policy_version = Scalar(n["policyVersion"]);
    p.scope = Scalar(n["scope"]);
    p.attr = Attr(n["attr"]);
    out[name] = std::move(p);
  }

  void ParseResource(const std::string& file, const std::string& name, const YAML::Node& n,
                     std::map<std::string, Resource>& out) {
    if (!n.IsMap() || !n["kind"] || !n["id"]) {
      Error(file, n.Mark(), "resource '" + name + "': needs kind and id");
      return;
    }
    Resource r;
    r.kind = Scalar(n["kind"]);
    r.id = Scalar(n["id"]);
    r.policy_version = Scalar(n["policyVersion"]);
    r.scope = Scalar(n["scope"]);
    r.attr = Attr(n["attr"]);
    out[name] = std::move(r);
  }

  const PolicySet& set_;
  TestReport& report_;
  std::map<std::string, Principal> shared_principals_;
  std::map<std::string, Resource> shared_resources_;
  std::vector<SuiteError> errors_;
};

void Finish(TestReport& report) {
  std::string text;
  for (const auto& f : report.failures) {
    text += "FAIL " + f.suite + " / " + f.test + ": principal " + f.principal + ", resource " + f.resource +
            ", action " + f.action + ": expected " + f.expected + ", got " + f.actual + " (" + f.detail + ")\n";
  }
  text += std::to_string(report.passed) + " passed, " + std::to_string(report.failed) + " failed";
  if (report.skipped > 0) text += ", " + std::to_string(report.skipped) + " skipped";
  text += "\n";
  report.text = std::move(text);
}

}  // namespace

Result<TestReport> RunTestSuites(const PolicySet& set, const std::vector<SourceDocument>& suites,
                                 const std::string& dir) {
  TestReport report;
  std::string errors;
  for (const auto& suite : suites) {
    SuiteRunner runner(set, report);
    if (!dir.empty()) runner.LoadTestdata((fs::path(dir) / fs::path(suite.path).parent_path()).string());
    runner.RunSuite(suite);
    for (const auto& e : runner.errors()) errors += (errors.empty() ? "" : "\n") + e.ToString();
  }
  if (!errors.empty()) return Status::InvalidArgument("malformed test suite:\n" + errors);
  Finish(report);
  return report;
}

Result<TestReport> RunPolicyTests(const std::string& dir) {
  auto set = LoadPolicyFolder(dir);
  if (!set.ok()) return set.status();
  std::vector<SourceDocument> suites;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file(ec)) continue;
    const std::string rel = fs::relative(it->path(), dir, ec).generic_string();
    if (!IsSuiteFile(rel)) continue;
    std::ifstream in(it->path());
    std::stringstream text;
    text << in.rdbuf();
    suites.push_back({rel, text.str()});
  }
  if (ec) return Status::InvalidArgument("reading '" + dir + "': " + ec.message());
  std::sort(suites.begin(), suites.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  if (suites.empty()) return Status::NotFound("no test suites (*_test.yaml) under '" + dir + "'");
  return RunTestSuites(**set, suites, dir);
}

}  // namespace warden::policy
