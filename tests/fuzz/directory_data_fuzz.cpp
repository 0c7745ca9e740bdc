// Fuzzes directory data as it comes in: JSON lines of objects and relations (POST /v1/import and a
// folder's data/*.jsonl) or one {"objects": [...], "relations": [...]} document (data/*.json).
// Each item goes through ObjectFromJson / RelationFromJson, the whole set is validated against
// examples/authzen-todo's manifest the way the control plane prevalidates an import (a Builder)
// and then applied as one batch to the snapshot of that example folder, as the write path does.
// Input: the data text. An input that parses whole as a JSON object with "objects" or
// "relations" is a data document; anything else is JSON lines.
// Properties: nothing crashes, hangs or leaks; items survive a JSON round trip unchanged; a
// relation just stored is found by a check.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/directory/checker.h"
#include "common/directory/data_json.h"
#include "common/directory/folder_loader.h"
#include "common/directory/snapshot.h"
#include "common/http/json.h"

namespace {

namespace directory = warden::directory;

// The control plane's default (AdminLimits::max_json_depth) for each import line.
constexpr int kMaxJsonDepth = 128;
// Checks run on what a batch stored; more would only slow big inputs.
constexpr size_t kMaxChecks = 16;

struct Example {
  directory::ManifestSource manifest;
  std::shared_ptr<const directory::DirectorySnapshot> snapshot;
};

const Example& AuthzenTodo() {
  static const Example example = [] {
    std::string folder = std::string(WARDEN_SOURCE_DIR) + "/examples/authzen-todo";
    auto manifest = directory::ReadFolderManifest(folder);
    auto snapshot = directory::LoadDirectoryFolder(folder, 1);
    if (!manifest.ok() || !manifest->has_value() || !snapshot.ok()) std::abort();
    return Example{**manifest, *snapshot};
  }();
  return example;
}

struct Items {
  std::vector<directory::ObjectRecord> objects;
  std::vector<directory::RelationTuple> relations;
};

// One JSON value holding an object or a relation (a relation has a "relation" key), with the
// round trip every read of it back out relies on.
void AddItem(const nlohmann::json& item, Items& items) {
  if (!item.is_object()) return;
  if (item.contains("relation")) {
    auto relation = directory::RelationFromJson(item);
    if (!relation.ok()) return;
    auto again = directory::RelationFromJson(directory::RelationToJson(*relation));
    if (!again.ok() || !(*again == *relation)) std::abort();
    items.relations.push_back(std::move(*relation));
  } else {
    auto object = directory::ObjectFromJson(item);
    if (!object.ok()) return;
    auto again = directory::ObjectFromJson(directory::ObjectToJson(*object));
    if (!again.ok() || again->type != object->type || again->id != object->id ||
        again->display_name != object->display_name || again->properties != object->properties) {
      std::abort();
    }
    items.objects.push_back(std::move(*object));
  }
}

void ParseJsonLines(std::string_view text, Items& items) {
  for (size_t start = 0; start < text.size();) {
    size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!warden::http::CheckJsonNesting(line, kMaxJsonDepth).ok()) continue;
    nlohmann::json item = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!item.is_discarded()) AddItem(item, items);
  }
}

void ParseDataDocument(const nlohmann::json& document, Items& items) {
  for (const char* key : {"objects", "relations"}) {
    auto list = document.find(key);
    if (list == document.end() || !list->is_array()) continue;
    for (const auto& item : *list) AddItem(item, items);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)AuthzenTodo();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const Example& example = AuthzenTodo();

  Items items;
  nlohmann::json whole;
  if (warden::http::CheckJsonNesting(text, kMaxJsonDepth).ok()) {
    whole = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  }
  if (whole.is_object() && (whole.contains("objects") || whole.contains("relations"))) {
    ParseDataDocument(whole, items);
  } else {
    ParseJsonLines(text, items);
  }

  // Prevalidation as the control plane does it: every item against the manifest, on a Builder.
  auto builder = directory::DirectorySnapshot::Builder::Create(example.manifest);
  if (!builder.ok()) std::abort();
  for (const auto& object : items.objects) (void)builder->AddObject(object);
  for (const auto& relation : items.relations) (void)builder->AddRelation(relation);
  (void)builder->Build(1);

  // The write: one atomic batch onto the example's snapshot.
  directory::ChangeBatch batch;
  for (const auto& object : items.objects) batch.changes.push_back(directory::Change::SetObject(object));
  for (const auto& relation : items.relations) batch.changes.push_back(directory::Change::SetRelation(relation));
  auto applied = example.snapshot->Apply(batch);
  if (!applied.ok()) {
    (void)applied.status().message();
    return 0;
  }
  const directory::DirectorySnapshot& after = **applied;
  for (const auto& object : items.objects) {
    if (!after.GetObject(object.type, object.id).ok()) std::abort();
  }
  size_t checks = 0;
  for (const auto& relation : items.relations) {
    if (checks++ >= kMaxChecks) break;
    directory::RelationFilter filter{relation.object_type, relation.object_id, relation.relation,
                                     relation.subject_type, relation.subject_id, relation.subject_relation};
    auto page = after.ListRelations(filter, 10);
    if (!page.ok() || page->relations.empty()) std::abort();
    directory::CheckRequest request{relation.object_type, relation.object_id,  relation.relation,
                                    relation.subject_type, relation.subject_id, relation.subject_relation};
    auto check = directory::Check(after, request);
    // A direct grant answers in one probe, so no limit can stand in the way.
    if (relation.subject_id != "*" && (!check.ok() || !check->allowed)) std::abort();
  }
  return 0;
}
