#include "control-plane/revision_messages.h"

#include <chrono>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/protocol/sync_messages.h"
#include "control-plane/api_support.h"

namespace warden::control_plane {

using nlohmann::json;

namespace {

// The ops of a JSON array's text, each as the span of its text, found by following strings and
// nesting without parsing the values; nullopt when the text is not an array of objects.
std::optional<std::vector<std::string_view>> SplitOps(std::string_view array) {
  std::vector<std::string_view> ops;
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  size_t at = 0;
  while (at < array.size() && space(array[at])) ++at;
  if (at == array.size() || array[at] != '[') return std::nullopt;
  ++at;
  while (true) {
    while (at < array.size() && (space(array[at]) || (array[at] == ',' && !ops.empty()))) ++at;
    if (at == array.size()) return std::nullopt;
    if (array[at] == ']') break;
    if (array[at] != '{') return std::nullopt;
    size_t start = at;
    int depth = 0;
    bool in_string = false;
    for (; at < array.size(); ++at) {
      char c = array[at];
      if (in_string) {
        if (c == '\\') {
          ++at;
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) break;
      }
    }
    if (at >= array.size()) return std::nullopt;
    ++at;
    ops.push_back(array.substr(start, at - start));
  }
  return ops;
}

}  // namespace

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
  // A large revision (an import) is cut between ops as the stored text stands: parsing a
  // 200,000-relation revision into a document and writing each part out again took the hub
  // thread most of a second before the first part left, with every edge waiting on it.
  if (auto ops = SplitOps(change.ops_json)) {
    std::vector<std::string_view> parts;
    const char* part_begin = nullptr;
    const char* part_end = nullptr;
    for (std::string_view op : *ops) {
      if (part_begin && static_cast<size_t>(op.data() + op.size() - part_begin) > protocol::kMaxMessagePayload) {
        parts.emplace_back(part_begin, static_cast<size_t>(part_end - part_begin));
        part_begin = nullptr;
      }
      if (!part_begin) part_begin = op.data();
      part_end = op.data() + op.size();
    }
    if (part_begin) parts.emplace_back(part_begin, static_cast<size_t>(part_end - part_begin));
    std::string time = Rfc3339(change.created_at);
    encoded.messages.push_back(json{{"type", "rev_begin"},
                                    {"revision", change.revision},
                                    {"author", change.author},
                                    {"time", time},
                                    {"parts", parts.size()}}
                                   .dump());
    std::string head = R"({"type":"rev_part","revision":)" + std::to_string(change.revision) + R"(,"index":)";
    for (size_t i = 0; i < parts.size(); ++i) {
      std::string message;
      message.reserve(head.size() + 32 + parts[i].size());
      message += head;
      message += std::to_string(i);
      message += R"(,"ops":[)";
      message += parts[i];
      message += "]}";
      encoded.messages.push_back(std::move(message));
    }
    encoded.messages.push_back(json{{"type", "rev_commit"}, {"revision", change.revision}}.dump());
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
    auto started = std::chrono::steady_clock::now();
    auto encoded = std::make_shared<const EncodedRevision>(EncodeRevision(change));
    if (encoded->messages.size() > 1) {
      spdlog::info("sync: revision {} ({:.1f} MiB of ops) encoded as {} messages in {:.0f} ms", change.revision,
                   static_cast<double>(change.ops_json.size()) / (1 << 20), encoded->messages.size(),
                   std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    }
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
