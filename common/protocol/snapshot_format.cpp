#include "common/protocol/snapshot_format.h"

#include <optional>
#include <vector>

#include "common/protocol/delta.h"

namespace warden::protocol {

nlohmann::json SnapshotCounts::ToJson() const {
  return {{"policies", policies}, {"manifest", manifest}, {"objects", objects}, {"relations", relations},
          {"bytes", bytes}};
}

namespace {

void AppendLine(std::string& body, const DeltaOp& op) {
  body += OpToJson(op).dump();
  body += '\n';
}

}  // namespace

std::shared_ptr<const SerializedSnapshot> SerializeSnapshot(const Snapshot& snapshot) {
  auto out = std::make_shared<SerializedSnapshot>();
  out->store_id = snapshot.store_id;
  out->revision = snapshot.revision;
  const auto& directory = *snapshot.directory;
  // Relations dominate; ~120 bytes each is a fair first guess and saves most regrowth.
  out->body.reserve(directory.relation_count() * 120 + directory.object_count() * 80 + 4096);
  for (const auto& source : *snapshot.policy_sources) {
    AppendLine(out->body, DeltaOp::SetPolicy(source.path, source.text));
    ++out->counts.policies;
  }
  if (const auto& manifest = directory.manifest_source()) {
    AppendLine(out->body, DeltaOp::SetManifest(*manifest));
    out->counts.manifest = 1;
  }
  std::string cursor;
  do {
    auto page = directory.ListObjects("", 10'000, cursor);
    if (!page.ok()) break;  // a cursor we made ourselves cannot be refused
    for (const auto& object : page->objects) {
      AppendLine(out->body, DeltaOp::SetObject(object));
      ++out->counts.objects;
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  do {
    auto page = directory.ListRelations({}, 10'000, cursor);
    if (!page.ok()) break;
    for (const auto& relation : page->relations) {
      AppendLine(out->body, DeltaOp::SetRelation(relation));
      ++out->counts.relations;
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  out->counts.bytes = out->body.size();
  out->sha256 = Sha256Hex(out->body);
  return out;
}

Result<std::shared_ptr<const Snapshot>> ParseSnapshot(std::string_view body, uint64_t revision,
                                                      std::string store_id) {
  using Kind = DeltaOp::Kind;
  std::vector<policy::SourceDocument> policies;
  std::optional<directory::ManifestSource> manifest;
  std::optional<directory::DirectorySnapshot::Builder> builder;
  // The order the format fixes: policies, manifest, objects, relations.
  int phase = 0;
  size_t line_number = 0;
  auto fail = [&](const std::string& reason) {
    return Status::InvalidArgument("snapshot line " + std::to_string(line_number) + ": " + reason);
  };
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.empty()) continue;
    auto json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_discarded()) return fail("not JSON");
    auto op = OpFromJson(json);
    if (!op.ok()) return fail(op.status().message());
    int op_phase = 0;
    switch (op->kind) {
      case Kind::kPolicySet: op_phase = 0; break;
      case Kind::kManifestSet: op_phase = 1; break;
      case Kind::kObjectSet: op_phase = 2; break;
      case Kind::kRelationSet: op_phase = 3; break;
      default: return fail("a snapshot holds only .set ops, not " + std::string(OpName(op->kind)));
    }
    if (op_phase < phase || (op_phase == 1 && manifest)) return fail(std::string(OpName(op->kind)) + " out of order");
    phase = op_phase;
    if (phase >= 2 && !builder) {
      auto created = directory::DirectorySnapshot::Builder::Create(manifest);
      if (!created.ok()) return created.status().WithPrefix("snapshot manifest");
      builder.emplace(std::move(*created));
    }
    switch (op->kind) {
      case Kind::kPolicySet: policies.push_back(std::move(op->policy)); break;
      case Kind::kManifestSet: manifest = std::move(op->manifest); break;
      case Kind::kObjectSet: {
        Status added = builder->AddObject(std::move(op->object));
        if (!added.ok()) return fail(added.message());
        break;
      }
      default: {
        Status added = builder->AddRelation(op->relation);
        if (!added.ok()) return fail(added.message());
        break;
      }
    }
  }
  if (!builder) {
    auto created = directory::DirectorySnapshot::Builder::Create(manifest);
    if (!created.ok()) return created.status().WithPrefix("snapshot manifest");
    builder.emplace(std::move(*created));
  }
  return MakeSnapshot(std::move(policies), builder->Build(revision), revision, std::move(store_id));
}

}  // namespace warden::protocol
