#include "common/protocol/delta.h"

#include <algorithm>
#include <map>

#include <openssl/evp.h>

#include "common/directory/data_json.h"

namespace warden::protocol {
namespace {

using nlohmann::json;

Result<std::string> RequiredString(const json& object, const char* parent, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_string()) {
    return Status::InvalidArgument(std::string(parent) + "." + field + ": required, a string");
  }
  return it->get<std::string>();
}

Status CheckHash(const json& object, const char* parent, const std::string& text) {
  auto it = object.find("sha256");
  if (it == object.end()) return Status::Ok();  // optional on input; always written on output
  if (!it->is_string() || it->get<std::string>() != Sha256Hex(text)) {
    return Status::InvalidArgument(std::string(parent) + ".sha256: does not match the text");
  }
  return Status::Ok();
}

}  // namespace

DeltaOp DeltaOp::SetObject(directory::ObjectRecord object) {
  DeltaOp op;
  op.kind = Kind::kObjectSet;
  op.object = std::move(object);
  return op;
}
DeltaOp DeltaOp::DeleteObject(std::string type, std::string id) {
  DeltaOp op;
  op.kind = Kind::kObjectDelete;
  op.object.type = std::move(type);
  op.object.id = std::move(id);
  return op;
}
DeltaOp DeltaOp::SetRelation(directory::RelationTuple relation) {
  DeltaOp op;
  op.kind = Kind::kRelationSet;
  op.relation = std::move(relation);
  return op;
}
DeltaOp DeltaOp::DeleteRelation(directory::RelationTuple relation) {
  DeltaOp op;
  op.kind = Kind::kRelationDelete;
  op.relation = std::move(relation);
  return op;
}
DeltaOp DeltaOp::SetManifest(directory::ManifestSource manifest) {
  DeltaOp op;
  op.kind = Kind::kManifestSet;
  op.manifest = std::move(manifest);
  return op;
}
DeltaOp DeltaOp::SetPolicy(std::string path, std::string text) {
  DeltaOp op;
  op.kind = Kind::kPolicySet;
  op.policy.path = std::move(path);
  op.policy.text = std::move(text);
  return op;
}
DeltaOp DeltaOp::DeletePolicy(std::string path) {
  DeltaOp op;
  op.kind = Kind::kPolicyDelete;
  op.policy.path = std::move(path);
  return op;
}

std::string_view OpName(DeltaOp::Kind kind) {
  switch (kind) {
    case DeltaOp::Kind::kObjectSet: return "object.set";
    case DeltaOp::Kind::kObjectDelete: return "object.delete";
    case DeltaOp::Kind::kRelationSet: return "relation.set";
    case DeltaOp::Kind::kRelationDelete: return "relation.delete";
    case DeltaOp::Kind::kManifestSet: return "manifest.set";
    case DeltaOp::Kind::kPolicySet: return "policy.set";
    case DeltaOp::Kind::kPolicyDelete: return "policy.delete";
  }
  return "unknown";
}

Sha256Stream::Sha256Stream() : context_(EVP_MD_CTX_new()) { Reset(); }

Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(context_)); }

void Sha256Stream::Reset() { EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(context_), EVP_sha256(), nullptr); }

void Sha256Stream::Update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(context_), data.data(), data.size());
}

std::string Sha256Stream::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(context_), digest, &length);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  Reset();
  return hex;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

json OpToJson(const DeltaOp& op) {
  json out = {{"op", OpName(op.kind)}};
  switch (op.kind) {
    case DeltaOp::Kind::kObjectSet: out["object"] = directory::ObjectToJson(op.object); break;
    case DeltaOp::Kind::kObjectDelete: out["object"] = {{"type", op.object.type}, {"id", op.object.id}}; break;
    case DeltaOp::Kind::kRelationSet:
    case DeltaOp::Kind::kRelationDelete: out["relation"] = directory::RelationToJson(op.relation); break;
    case DeltaOp::Kind::kManifestSet:
      out["manifest"] = {{"format", op.manifest.format == directory::ManifestSource::Format::kZed ? "zed" : "yaml"},
                         {"name", op.manifest.name},
                         {"text", op.manifest.text},
                         {"sha256", Sha256Hex(op.manifest.text)}};
      break;
    case DeltaOp::Kind::kPolicySet:
      out["policy"] = {{"path", op.policy.path}, {"text", op.policy.text}, {"sha256", Sha256Hex(op.policy.text)}};
      break;
    case DeltaOp::Kind::kPolicyDelete: out["policy"] = {{"path", op.policy.path}}; break;
  }
  return out;
}

Result<DeltaOp> OpFromJson(const json& value) {
  if (!value.is_object()) return Status::InvalidArgument("op: must be an object");
  auto name = value.find("op");
  if (name == value.end() || !name->is_string()) return Status::InvalidArgument("op: required, a string");
  const std::string& op_name = name->get_ref<const std::string&>();
  // The op's body, by reference (a copy of it cost as much as reading it).
  auto member = [&](const char* key) -> Result<const json*> {
    auto it = value.find(key);
    if (it == value.end() || !it->is_object()) return Status::InvalidArgument(std::string(key) + ": required, an object");
    return &*it;
  };
  if (op_name == "object.set") {
    auto object = member("object");
    if (!object.ok()) return object.status();
    auto record = directory::ObjectFromJson(**object);
    if (!record.ok()) return record.status().WithPrefix("object");
    return DeltaOp::SetObject(std::move(*record));
  }
  if (op_name == "object.delete") {
    auto object = member("object");
    if (!object.ok()) return object.status();
    auto type = RequiredString(**object, "object", "type");
    if (!type.ok()) return type.status();
    auto id = RequiredString(**object, "object", "id");
    if (!id.ok()) return id.status();
    return DeltaOp::DeleteObject(std::move(*type), std::move(*id));
  }
  if (op_name == "relation.set" || op_name == "relation.delete") {
    auto relation = member("relation");
    if (!relation.ok()) return relation.status();
    auto tuple = directory::RelationFromJson(**relation);
    if (!tuple.ok()) return tuple.status().WithPrefix("relation");
    return op_name == "relation.set" ? DeltaOp::SetRelation(std::move(*tuple)) : DeltaOp::DeleteRelation(std::move(*tuple));
  }
  if (op_name == "manifest.set") {
    auto manifest = member("manifest");
    if (!manifest.ok()) return manifest.status();
    auto format = RequiredString(**manifest, "manifest", "format");
    if (!format.ok()) return format.status();
    if (*format != "yaml" && *format != "zed") return Status::InvalidArgument("manifest.format: must be yaml or zed");
    auto text = RequiredString(**manifest, "manifest", "text");
    if (!text.ok()) return text.status();
    WARDEN_RETURN_IF_ERROR(CheckHash(**manifest, "manifest", *text));
    directory::ManifestSource source;
    source.format = *format == "zed" ? directory::ManifestSource::Format::kZed : directory::ManifestSource::Format::kYaml;
    source.text = std::move(*text);
    auto file = (*manifest)->find("name");
    source.name = file != (*manifest)->end() && file->is_string() ? file->get<std::string>()
                                                               : (*format == "zed" ? "schema.zed" : "manifest.yaml");
    return DeltaOp::SetManifest(std::move(source));
  }
  if (op_name == "policy.set" || op_name == "policy.delete") {
    auto policy = member("policy");
    if (!policy.ok()) return policy.status();
    auto path = RequiredString(**policy, "policy", "path");
    if (!path.ok()) return path.status();
    if (path->empty()) return Status::InvalidArgument("policy.path: must not be empty");
    if (op_name == "policy.delete") return DeltaOp::DeletePolicy(std::move(*path));
    auto text = RequiredString(**policy, "policy", "text");
    if (!text.ok()) return text.status();
    WARDEN_RETURN_IF_ERROR(CheckHash(**policy, "policy", *text));
    return DeltaOp::SetPolicy(std::move(*path), std::move(*text));
  }
  return Status::InvalidArgument("op: unknown '" + op_name + "'");
}

json OpsToJson(const std::vector<DeltaOp>& ops) {
  json out = json::array();
  for (const auto& op : ops) out.push_back(OpToJson(op));
  return out;
}

Result<std::vector<DeltaOp>> OpsFromJson(const json& value) {
  if (!value.is_array()) return Status::InvalidArgument("ops: must be an array");
  std::vector<DeltaOp> ops;
  ops.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    auto op = OpFromJson(value[i]);
    if (!op.ok()) return op.status().WithPrefix("ops[" + std::to_string(i) + "]");
    ops.push_back(std::move(*op));
  }
  return ops;
}

directory::ChangeBatch DirectoryBatch(const std::vector<DeltaOp>& ops, uint64_t revision) {
  directory::ChangeBatch batch;
  batch.revision = revision;
  batch.changes.reserve(ops.size());  // a Change is large; growing by moves cost as much as the copies
  for (const auto& op : ops) {
    switch (op.kind) {
      case DeltaOp::Kind::kObjectSet: batch.changes.push_back(directory::Change::SetObject(op.object)); break;
      case DeltaOp::Kind::kObjectDelete:
        batch.changes.push_back(directory::Change::DeleteObject(op.object.type, op.object.id));
        break;
      case DeltaOp::Kind::kRelationSet: batch.changes.push_back(directory::Change::SetRelation(op.relation)); break;
      case DeltaOp::Kind::kRelationDelete: batch.changes.push_back(directory::Change::DeleteRelation(op.relation)); break;
      case DeltaOp::Kind::kManifestSet: batch.changes.push_back(directory::Change::SetManifest(op.manifest)); break;
      case DeltaOp::Kind::kPolicySet:
      case DeltaOp::Kind::kPolicyDelete: break;
    }
  }
  return batch;
}

bool TouchesPolicies(const std::vector<DeltaOp>& ops) {
  return std::any_of(ops.begin(), ops.end(), [](const DeltaOp& op) {
    return op.kind == DeltaOp::Kind::kPolicySet || op.kind == DeltaOp::Kind::kPolicyDelete;
  });
}

std::vector<policy::SourceDocument> ApplyPolicyOps(const std::vector<policy::SourceDocument>& before,
                                                   const std::vector<DeltaOp>& ops) {
  std::map<std::string, std::string> files;
  for (const auto& source : before) files[source.path] = source.text;
  for (const auto& op : ops) {
    if (op.kind == DeltaOp::Kind::kPolicySet) files[op.policy.path] = op.policy.text;
    if (op.kind == DeltaOp::Kind::kPolicyDelete) files.erase(op.policy.path);
  }
  std::vector<policy::SourceDocument> after;
  after.reserve(files.size());
  for (auto& [path, text] : files) after.push_back({path, std::move(text)});
  return after;
}

}  // namespace warden::protocol
