// Runs the cel-spec conformance corpus (tests/conformance/corpus/cel/*.json) against common/cel.
//
// Prints "NAME: N passed, M failed, K skipped" per file and a total line. Skipped means the case
// needs protobuf messages (tagged `requires`). Exits non-zero when a case in a required file
// fails, when a failing case is not in the known-failures list, or when fewer than 95% of the
// cases needing no protobuf messages pass. --verbose prints every failure.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "common/cel/cel.h"
#include "common/cel/internal/encoding.h"
#include "common/cel/internal/time_util.h"
#include "tests/conformance/cel/known_failures.h"

namespace {

using nlohmann::json;
using warden::cel::Kind;
using warden::cel::Value;

const std::set<std::string> kRequiredFiles = {"basic",  "comparisons", "conversions", "fields", "fp_math",
                                              "integer_math", "lists", "logic", "macros", "macros2",
                                              "plumbing", "string", "timestamps"};

Value FromTyped(const json& t) {
  auto it = t.begin();
  const std::string key = it.key();
  const json& v = it.value();
  if (key == "int") return Value::Int(std::stoll(v.get<std::string>()));
  if (key == "uint") return Value::Uint(std::stoull(v.get<std::string>()));
  if (key == "double") {
    if (v.is_string()) {
      std::string s = v.get<std::string>();
      if (s == "NaN") return Value::Double(std::nan(""));
      if (s == "Infinity") return Value::Double(INFINITY);
      return Value::Double(-INFINITY);
    }
    return Value::Double(v.get<double>());
  }
  if (key == "string") return Value::String(v.get<std::string>());
  if (key == "bytes") return Value::Bytes(warden::cel::internal::Base64Decode(v.get<std::string>()).value_or(""));
  if (key == "bool") return Value::Bool(v.get<bool>());
  if (key == "null") return Value::Null();
  if (key == "list") {
    warden::cel::ListValue items;
    for (const auto& x : v) items.push_back(FromTyped(x));
    return Value::List(std::move(items));
  }
  if (key == "map") {
    std::vector<std::pair<Value, Value>> entries;
    for (const auto& kv : v) entries.emplace_back(FromTyped(kv[0]), FromTyped(kv[1]));
    return Value::Map(std::move(entries));
  }
  if (key == "type") return Value::Type(v.get<std::string>());
  if (key == "timestamp") {
    auto ts = warden::cel::internal::ParseTimestamp(v.get<std::string>());
    return ts ? Value::TimestampOf(*ts) : Value::Error("bad timestamp in corpus");
  }
  if (key == "duration") {
    auto d = warden::cel::internal::ParseDuration(v.get<std::string>());
    return d ? Value::DurationOf(*d) : Value::Error("bad duration in corpus");
  }
  return Value::Error("unsupported typed value '" + key + "'");
}

// Same kind and same value, recursively; NaN matches NaN.
bool SameValue(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Kind::kDouble:
      if (std::isnan(a.double_value()) && std::isnan(b.double_value())) return true;
      return a.double_value() == b.double_value() && std::signbit(a.double_value()) == std::signbit(b.double_value());
    case Kind::kList: {
      const auto& la = a.list_value();
      const auto& lb = b.list_value();
      if (la.size() != lb.size()) return false;
      for (size_t i = 0; i < la.size(); ++i) {
        if (!SameValue(la[i], lb[i])) return false;
      }
      return true;
    }
    case Kind::kMap: {
      const auto& ma = a.map_value();
      const auto& mb = b.map_value();
      if (ma.size() != mb.size()) return false;
      for (const auto& [k, v] : ma.entries()) {
        const Value* o = mb.Find(k);
        if (o == nullptr || !SameValue(v, *o)) return false;
      }
      return true;
    }
    default: return warden::cel::ValuesEqual(a, b);
  }
}

struct Outcome {
  bool pass = false;
  std::string detail;
  bool failed_at_compile = false;  // an expected error that surfaced when compiling
};

Outcome RunCase(const json& t) {
  warden::cel::CompileOptions options;
  options.container = t.value("container", "");
  options.undeclared_as_runtime_error = t.value("disable_check", false);
  std::set<std::string> names;
  if (t.contains("type_env")) {
    for (const auto& d : t["type_env"]) {
      if (!d.contains("function")) names.insert(d["name"].get<std::string>());
    }
  }
  warden::cel::Activation activation;
  std::vector<std::pair<std::string, Value>> bound;
  if (t.contains("bindings")) {
    for (const auto& [name, typed] : t["bindings"].items()) {
      names.insert(name);
      bound.emplace_back(name, FromTyped(typed));
    }
  }
  options.variables.assign(names.begin(), names.end());
  for (const auto& [name, value] : bound) activation.Bind(name, value);
  const json& expect = t["expect"];
  if (t.value("check_only", false)) return {false, "check_only: needs a static type checker"};
  auto program = warden::cel::Compile(t["expr"].get<std::string>(), options);
  bool want_error = expect.contains("error") || expect.contains("any_error");
  if (!program.ok()) {
    if (want_error) return {true, "", true};
    return {false, "compile error: " + program.status().message()};
  }
  Value got = warden::cel::Evaluate(**program, activation);
  if (want_error) {
    if (got.is_error()) return {true, ""};
    return {false, "expected error, got " + got.DebugString()};
  }
  Value want = FromTyped(expect["value"]);
  if (SameValue(got, want)) return {true, ""};
  return {false, "expected " + want.DebugString() + ", got " + got.DebugString()};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: conformance_cel_runner CORPUS_DIR [--verbose]\n";
    return 2;
  }
  bool verbose = argc > 2 && std::string(argv[2]) == "--verbose";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << "no corpus files in " << argv[1] << "\n";
    return 2;
  }
  const auto& known = warden::cel::conformance::KnownFailures();
  int total_pass = 0, total_fail = 0, total_skip = 0, total_compile_errors = 0;
  bool regression = false;
  std::vector<std::string> unexpected, now_passing;
  for (const auto& path : files) {
    std::ifstream in(path);
    json doc = json::parse(in);
    std::string name = doc["name"].get<std::string>();
    int pass = 0, fail = 0, skip = 0;
    for (const auto& section : doc["sections"]) {
      int index = 0;
      for (const auto& t : section["tests"]) {
        std::string key = name + "/" + section["name"].get<std::string>() + "/" + t["name"].get<std::string>() +
                          "#" + std::to_string(index++);
        if (t.contains("requires")) {
          ++skip;
          continue;
        }
        Outcome o = RunCase(t);
        bool listed = known.count(key) > 0;
        if (o.pass) {
          ++pass;
          if (o.failed_at_compile) {
            ++total_compile_errors;
            if (verbose) std::cout << "  COMPILE-ERROR PASS " << key << ": " << t["expr"].get<std::string>() << "\n";
          }
          if (listed) now_passing.push_back(key);
          continue;
        }
        ++fail;
        if (kRequiredFiles.count(name) || !listed) {
          regression = true;
          unexpected.push_back(key + ": " + t["expr"].get<std::string>() + " -> " + o.detail);
        }
        if (verbose) std::cout << "  FAIL " << key << ": " << t["expr"].get<std::string>() << " -> " << o.detail << "\n";
      }
    }
    std::cout << name << ": " << pass << " passed, " << fail << " failed, " << skip << " skipped\n";
    total_pass += pass;
    total_fail += fail;
    total_skip += skip;
  }
  double rate = total_pass + total_fail == 0 ? 1.0 : double(total_pass) / double(total_pass + total_fail);
  std::cout << "TOTAL: " << total_pass << " passed, " << total_fail << " failed, " << total_skip
            << " skipped (" << std::fixed << std::setprecision(1) << rate * 100 << "% of cases without protobuf messages)\n";
  std::cout << "(" << total_compile_errors
            << " of the passes expected an evaluation error and got it earlier, as a compile error)\n";
  for (const auto& k : now_passing) std::cout << "now passing, remove from the known-failures list: " << k << "\n";
  for (const auto& u : unexpected) std::cout << "UNEXPECTED FAILURE " << u << "\n";
  if (rate < 0.95) {
    std::cout << "pass rate below 95%\n";
    return 1;
  }
  return regression ? 1 : 0;
}
