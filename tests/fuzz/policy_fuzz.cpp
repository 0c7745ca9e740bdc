// Fuzzes Cerbos-compatible policy documents: parse every file (ParseDocuments), compile them as one
// set (PolicySet::Compile) and, when that succeeds, Decide and Plan for a principal and resource
// whose names, roles, actions and attributes are picked from what the documents themselves name,
// so mutations reach rules and conditions instead of the default deny.
// Input: policy files separated by NUL bytes; the segment after the last NUL is not a file but the
// request choices (an input without NUL is one file with default choices).
// Properties: nothing crashes, hangs or leaks, whatever the text (YAML, JSON or neither).
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/cel/value.h"
#include "common/policy/document.h"
#include "common/policy/policy_set.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using warden::cel::Value;
using warden::fuzz::FuzzInput;
namespace policy = warden::policy;

// Enough for a policy folder's worth of cross-document imports; more only slows each run.
constexpr size_t kMaxFiles = 32;

// Names the parsed documents use, as candidates for the request.
struct Vocabulary {
  std::vector<std::string> resource_kinds;
  std::vector<std::string> principal_ids;
  std::vector<std::string> versions;
  std::vector<std::string> scopes;
  std::vector<std::string> roles;
  std::vector<std::string> actions;
  std::vector<std::string> attribute_names;  // what follows "attr." in the text
};

void Collect(const policy::PolicyDoc& doc, Vocabulary& words) {
  if (doc.kind == policy::PolicyDoc::Kind::kResource) words.resource_kinds.push_back(doc.name);
  if (doc.kind == policy::PolicyDoc::Kind::kPrincipal) words.principal_ids.push_back(doc.name);
  words.versions.push_back(doc.version);
  words.scopes.push_back(doc.scope);
  for (const auto& rule : doc.resource_rules) {
    words.roles.insert(words.roles.end(), rule.roles.begin(), rule.roles.end());
    words.actions.insert(words.actions.end(), rule.actions.begin(), rule.actions.end());
  }
  for (const auto& rule : doc.principal_rules) {
    words.resource_kinds.push_back(rule.resource);
    for (const auto& action : rule.actions) words.actions.push_back(action.action);
  }
  for (const auto& definition : doc.definitions) {
    words.roles.insert(words.roles.end(), definition.parent_roles.begin(), definition.parent_roles.end());
  }
}

void CollectAttributeNames(std::string_view text, Vocabulary& words) {
  constexpr std::string_view kMarker = "attr.";
  for (size_t at = text.find(kMarker); at != std::string_view::npos && words.attribute_names.size() < 16;
       at = text.find(kMarker, at + 1)) {
    size_t begin = at + kMarker.size(), end = begin;
    while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) ++end;
    if (end > begin) words.attribute_names.emplace_back(text.substr(begin, end - begin));
  }
}

// One of `candidates` or, when the input says so (or there are none), a string of its own.
std::string Pick(FuzzInput& in, const std::vector<std::string>& candidates) {
  uint64_t choice = in.Range(0, candidates.size());
  if (choice < candidates.size()) return candidates[choice];
  return in.String(12);
}

Value DrawValue(FuzzInput& in, const Vocabulary& words, int depth) {
  switch (in.Range(0, depth > 0 ? 6 : 4)) {
    case 0: return Value::Null();
    case 1: return Value::Bool(in.Bool());
    case 2: return Value::Double(static_cast<double>(static_cast<int8_t>(in.Byte())));
    case 3: return Value::String(Pick(in, words.roles));
    case 4: return Value::String(in.String(12));
    case 5: {
      std::vector<Value> items;
      for (size_t n = in.Range(0, 3); n > 0; --n) items.push_back(DrawValue(in, words, depth - 1));
      return Value::List(std::move(items));
    }
    default: {
      std::vector<std::pair<Value, Value>> entries;
      for (size_t n = in.Range(0, 3); n > 0; --n) {
        entries.emplace_back(Value::String(Pick(in, words.attribute_names)), DrawValue(in, words, depth - 1));
      }
      return Value::Map(std::move(entries));
    }
  }
}

// Attributes as requests carry them: a map with string keys, which Cerbos requires unique.
Value DrawAttributes(FuzzInput& in, const Vocabulary& words) {
  std::vector<std::pair<Value, Value>> entries;
  std::vector<std::string> used;
  for (size_t n = in.Range(0, 4); n > 0; --n) {
    std::string name = Pick(in, words.attribute_names);
    Value value = DrawValue(in, words, 2);
    if (std::find(used.begin(), used.end(), name) != used.end()) continue;
    used.push_back(name);
    entries.emplace_back(Value::String(std::move(name)), std::move(value));
  }
  return Value::Map(std::move(entries));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t last_nul = all.rfind('\0');
  std::string_view files_text = last_nul == std::string_view::npos ? all : all.substr(0, last_nul);
  std::string_view choices_bytes = last_nul == std::string_view::npos ? std::string_view() : all.substr(last_nul + 1);

  std::vector<policy::SourceDocument> sources;
  for (size_t begin = 0; sources.size() < kMaxFiles;) {
    size_t end = std::min(files_text.find('\0', begin), files_text.size());
    sources.push_back({"policies/p" + std::to_string(sources.size()) + ".yaml",
                       std::string(files_text.substr(begin, end - begin))});
    if (end == files_text.size()) break;
    begin = end + 1;
  }

  Vocabulary words;
  for (const auto& source : sources) {
    std::vector<policy::LoadError> errors;
    for (const auto& doc : policy::ParseDocuments(source, errors)) Collect(doc, words);
    for (const auto& error : errors) (void)error.ToString();
    CollectAttributeNames(source.text, words);
  }

  std::vector<policy::LoadError> errors;
  auto compiled = policy::PolicySet::Compile(sources, {}, &errors);
  if (!compiled.ok()) {
    (void)policy::FormatLoadErrors(errors);
    return 0;
  }
  const policy::PolicySet& set = **compiled;

  FuzzInput in(reinterpret_cast<const uint8_t*>(choices_bytes.data()), choices_bytes.size());
  policy::Principal principal;
  principal.id = Pick(in, words.principal_ids);
  for (size_t n = in.Range(1, 3); n > 0; --n) principal.roles.push_back(Pick(in, words.roles));
  principal.policy_version = Pick(in, words.versions);
  principal.scope = Pick(in, words.scopes);
  principal.attr = DrawAttributes(in, words);

  policy::Resource resource;
  resource.kind = Pick(in, words.resource_kinds);
  resource.id = in.String(8);
  resource.policy_version = Pick(in, words.versions);
  resource.scope = Pick(in, words.scopes);
  resource.attr = DrawAttributes(in, words);

  std::vector<std::string> actions;
  for (size_t n = in.Range(1, 3); n > 0; --n) actions.push_back(Pick(in, words.actions));

  policy::DecideOptions options;
  options.effective_derived_roles = in.Bool();
  if (in.Bool()) options.aux_data = Value::Map({{Value::String("jwt"), DrawAttributes(in, words)}});

  policy::Decision decision = set.Decide(principal, resource, actions, options);
  for (const auto& action : decision.actions) {
    (void)policy::RuleName(action);
    (void)policy::RuleFile(action);
    (void)policy::MatchedPolicy(action, principal, resource);
  }
  for (const auto& output : decision.outputs) (void)output.value.DebugString();
  (void)set.ActionsOf(resource.kind);
  (void)set.CoversResourceKind(resource.kind);

  // Plan knows only the attributes given; drop some so conditions over the rest stay residual.
  if (in.Bool()) resource.attr = Value::Map({});
  policy::PlanResult plan = set.Plan(principal, resource, actions.front(), options);
  (void)plan.FilterJson();
  return 0;
}
