#include "common/protocol/snapshot_format.h"

#include <optional>
#include <vector>

#include "common/protocol/delta.h"
#include "common/util/json_text.h"

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

// The line AppendLine writes for DeltaOp::SetRelation(relation) (keys in the order nlohmann's
// std::map dumps them), written without a JSON tree: relations are most of a snapshot, and the
// tree cost more than half of serializing one.
void AppendRelationLine(std::string& body, const directory::RelationTuple& relation) {
  body += R"({"op":"relation.set","relation":{"object_id":)";
  AppendJsonString(body, relation.object_id);
  body += R"(,"object_type":)";
  AppendJsonString(body, relation.object_type);
  body += R"(,"relation":)";
  AppendJsonString(body, relation.relation);
  body += R"(,"subject_id":)";
  AppendJsonString(body, relation.subject_id);
  if (!relation.subject_relation.empty()) {
    body += R"(,"subject_relation":)";
    AppendJsonString(body, relation.subject_relation);
  }
  body += R"(,"subject_type":)";
  AppendJsonString(body, relation.subject_type);
  body += "}}\n";
}

// The fast path for the format's own relation lines, which are most of a snapshot:
// {"op":"relation.set","relation":{"KEY":"VALUE",...}} with plain ASCII strings. Returns false for
// anything else (an escape, a control character, a byte of a multi-byte character, another
// shape), which then takes the general JSON path: that one refuses what is not JSON, where
// accepting it here would store a string the snapshot could not be serialized with again.
bool ParseRelationLine(std::string_view line, directory::RelationTuple& out) {
  constexpr std::string_view kPrefix = R"({"op":"relation.set","relation":{)";
  if (line.size() < kPrefix.size() + 2 || line.substr(0, kPrefix.size()) != kPrefix ||
      line.substr(line.size() - 2) != "}}") {
    return false;
  }
  std::string_view body = line.substr(kPrefix.size(), line.size() - kPrefix.size() - 2);
  out = directory::RelationTuple{};
  size_t at = 0;
  while (at < body.size()) {
    if (body[at] != '"') return false;
    size_t key_end = body.find('"', at + 1);
    if (key_end == std::string_view::npos || key_end + 2 >= body.size() || body[key_end + 1] != ':' ||
        body[key_end + 2] != '"') {
      return false;
    }
    std::string_view key = body.substr(at + 1, key_end - at - 1);
    size_t value_start = key_end + 3;
    size_t value_end = body.find('"', value_start);
    if (value_end == std::string_view::npos) return false;
    std::string_view value = body.substr(value_start, value_end - value_start);
    for (char c : value) {
      if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x80) return false;
    }
    if (key == "object_type") {
      out.object_type = value;
    } else if (key == "object_id") {
      out.object_id = value;
    } else if (key == "relation") {
      out.relation = value;
    } else if (key == "subject_type") {
      out.subject_type = value;
    } else if (key == "subject_id") {
      out.subject_id = value;
    } else if (key == "subject_relation") {
      out.subject_relation = value;
    } else {
      return false;
    }
    at = value_end + 1;
    if (at < body.size()) {
      if (body[at] != ',') return false;
      ++at;
    }
  }
  return true;
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
      AppendRelationLine(out->body, relation);
      ++out->counts.relations;
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  out->counts.bytes = out->body.size();
  out->sha256 = Sha256Hex(out->body);
  return out;
}

struct SnapshotParser::State {
  policy::ExpressionLimits expression_limits;
  std::vector<policy::SourceDocument> policies;
  std::optional<directory::ManifestSource> manifest;
  std::optional<directory::DirectorySnapshot::Builder> builder;
  int phase = 0;  // the order the format fixes: 0 policies, 1 manifest, 2 objects, 3 relations
  size_t line_number = 0;
  Status error;

  Status Fail(const std::string& reason) const {
    return Status::InvalidArgument("snapshot line " + std::to_string(line_number) + ": " + reason);
  }
  Status EnsureBuilder() {
    if (builder) return Status::Ok();
    auto created = directory::DirectorySnapshot::Builder::Create(manifest);
    if (!created.ok()) return created.status().WithPrefix("snapshot manifest");
    builder.emplace(std::move(*created));
    return Status::Ok();
  }
  Status Line(std::string_view line) {
    using Kind = DeltaOp::Kind;
    directory::RelationTuple fast;
    if (phase >= 2 && ParseRelationLine(line, fast)) {
      phase = 3;
      WARDEN_RETURN_IF_ERROR(EnsureBuilder());
      Status added = builder->AddRelation(fast);
      return added.ok() ? added : Fail(added.message());
    }
    auto json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_discarded()) return Fail("not JSON");
    auto op = OpFromJson(json);
    if (!op.ok()) return Fail(op.status().message());
    int op_phase = 0;
    switch (op->kind) {
      case Kind::kPolicySet: op_phase = 0; break;
      case Kind::kManifestSet: op_phase = 1; break;
      case Kind::kObjectSet: op_phase = 2; break;
      case Kind::kRelationSet: op_phase = 3; break;
      default: return Fail("a snapshot holds only .set ops, not " + std::string(OpName(op->kind)));
    }
    if (op_phase < phase || (op_phase == 1 && manifest)) return Fail(std::string(OpName(op->kind)) + " out of order");
    phase = op_phase;
    if (phase >= 2) WARDEN_RETURN_IF_ERROR(EnsureBuilder());
    switch (op->kind) {
      case Kind::kPolicySet: policies.push_back(std::move(op->policy)); return Status::Ok();
      case Kind::kManifestSet: manifest = std::move(op->manifest); return Status::Ok();
      case Kind::kObjectSet: {
        Status added = builder->AddObject(std::move(op->object));
        return added.ok() ? added : Fail(added.message());
      }
      default: {
        Status added = builder->AddRelation(op->relation);
        return added.ok() ? added : Fail(added.message());
      }
    }
  }
};

SnapshotParser::SnapshotParser(const policy::ExpressionLimits& expression_limits)
    : state_(std::make_unique<State>()) {
  state_->expression_limits = expression_limits;
}
SnapshotParser::~SnapshotParser() = default;

Status SnapshotParser::Feed(std::string_view lines) {
  if (!state_->error.ok()) return state_->error;
  size_t start = 0;
  while (start < lines.size()) {
    size_t end = lines.find('\n', start);
    if (end == std::string_view::npos) end = lines.size();
    std::string_view line = lines.substr(start, end - start);
    start = end + 1;
    ++state_->line_number;
    if (line.empty()) continue;
    Status status = state_->Line(line);
    if (!status.ok()) {
      state_->error = status;
      return status;
    }
  }
  return Status::Ok();
}

Result<std::shared_ptr<const Snapshot>> SnapshotParser::Finish(uint64_t revision, std::string store_id) {
  if (!state_->error.ok()) return state_->error;
  WARDEN_RETURN_IF_ERROR(state_->EnsureBuilder());
  return MakeSnapshot(std::move(state_->policies), state_->builder->Build(revision), revision, std::move(store_id),
                      state_->expression_limits);
}

Result<std::shared_ptr<const Snapshot>> ParseSnapshot(std::string_view body, uint64_t revision,
                                                      std::string store_id,
                                                      const policy::ExpressionLimits& expression_limits) {
  SnapshotParser parser(expression_limits);
  WARDEN_RETURN_IF_ERROR(parser.Feed(body));
  return parser.Finish(revision, std::move(store_id));
}

}  // namespace warden::protocol
