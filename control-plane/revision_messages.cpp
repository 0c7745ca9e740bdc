#include "control-plane/revision_messages.h"

#include <nlohmann/json.hpp>

#include "common/protocol/sync_messages.h"
#include "control-plane/api_support.h"

namespace warden::control_plane {

using nlohmann::json;

EncodedRevision EncodeRevision(const ChangeEntry& change) {
  EncodedRevision encoded;
  encoded.revision = change.revision;
  encoded.ops_bytes = change.ops_json.size();
  if (change.ops_json.size() <= protocol::kMaxMessagePayload) {
    // The stored ops are already the wire's JSON: spliced in, not parsed and re-serialized.
    std::string message = json{{"type", "delta"}, {"revision", change.revision}, {"author", change.author},
                               {"time", Rfc3339(change.created_at)}}
                              .dump();
    message.pop_back();
    message += ",\"ops\":";
    message += change.ops_json;
    message += '}';
    encoded.messages.push_back(std::move(message));
    return encoded;
  }
  json ops = json::parse(change.ops_json);
  std::vector<json> parts(1, json::array());
  size_t part_bytes = 0;
  for (auto& op : ops) {
    size_t op_bytes = op.dump().size();
    if (part_bytes + op_bytes > protocol::kMaxMessagePayload && !parts.back().empty()) {
      parts.emplace_back(json::array());
      part_bytes = 0;
    }
    part_bytes += op_bytes;
    parts.back().push_back(std::move(op));
  }
  encoded.messages.push_back(json{{"type", "rev_begin"},
                                  {"revision", change.revision},
                                  {"author", change.author},
                                  {"time", Rfc3339(change.created_at)},
                                  {"parts", parts.size()}}
                                 .dump());
  for (size_t i = 0; i < parts.size(); ++i) {
    encoded.messages.push_back(
        json{{"type", "rev_part"}, {"revision", change.revision}, {"index", i}, {"ops", std::move(parts[i])}}.dump());
  }
  encoded.messages.push_back(json{{"type", "rev_commit"}, {"revision", change.revision}}.dump());
  return encoded;
}

Result<std::vector<std::shared_ptr<const EncodedRevision>>> RevisionMessages::After(Store& store, uint64_t after,
                                                                                    size_t limit) {
  std::vector<std::shared_ptr<const EncodedRevision>> out;
  if (limit == 0) return out;
  // Checked first so that compaction decides exactly as it does for an edge reading the log.
  if (after < store.compacted_through()) return store.Changes(after, limit).status();
  if (!held_.empty() && after + 1 >= held_.front()->revision && after + 1 <= held_.back()->revision) {
    for (size_t i = after + 1 - held_.front()->revision; i < held_.size() && out.size() < limit; ++i) {
      out.push_back(held_[i]);
    }
    return out;
  }
  auto changes = store.Changes(after, limit);
  if (!changes.ok()) return changes.status();
  for (const auto& change : *changes) {
    auto encoded = std::make_shared<const EncodedRevision>(EncodeRevision(change));
    Keep(encoded);
    out.push_back(std::move(encoded));
  }
  return out;
}

void RevisionMessages::Keep(std::shared_ptr<const EncodedRevision> encoded) {
  // Only the newest revisions are kept, consecutively: an older one (an edge catching up from far
  // behind) is encoded for that edge alone.
  if (!held_.empty() && encoded->revision <= held_.back()->revision) return;
  if (!held_.empty() && encoded->revision != held_.back()->revision + 1) {
    held_.clear();
    held_bytes_ = 0;
  }
  size_t bytes = 0;
  for (const auto& message : encoded->messages) bytes += message.size();
  held_bytes_ += bytes;
  held_.push_back(std::move(encoded));
  while (held_.size() > 1 && (held_.size() > max_revisions_ || held_bytes_ > max_bytes_)) {
    for (const auto& message : held_.front()->messages) held_bytes_ -= message.size();
    held_.pop_front();
  }
}

}  // namespace warden::control_plane
