// Fuzzes the sync snapshot format and delta ops: a snapshot body is parsed whole (ParseSnapshot)
// and in pieces of whole lines (SnapshotParser, as chunks arrive from the hub); a snapshot that
// parses is serialized and parsed again; delta ops are read (OpsFromJson) and applied
// (ApplyRevision) onto examples/authzen-todo's snapshot or onto the parsed one.
// Input: a flags byte (bits 0-2: lines per piece minus one; bit 3: apply the ops onto the parsed
// snapshot; bits 4-7: how many revisions the ops move forward, minus one), the snapshot body,
// then a NUL and delta ops, one JSON op per line. A "sha256" of "fuzz" in any line stands for the
// hash of that line's text, so mutated policy and manifest texts get past the hash check.
// Properties: nothing crashes, hangs or leaks; whole and piecewise parsing agree; what parses
// serializes to a body that parses back and serializes to the same lines.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/protocol/apply.h"
#include "common/protocol/delta.h"
#include "common/protocol/snapshot_format.h"
#include "common/snapshot/folder_snapshot.h"

namespace {

namespace protocol = warden::protocol;
using warden::Snapshot;

constexpr uint64_t kRevision = 5;

const Snapshot& AuthzenTodo() {
  static const std::shared_ptr<const Snapshot> snapshot = [] {
    auto loaded = warden::LoadSnapshotFolder(std::string(WARDEN_SOURCE_DIR) + "/examples/authzen-todo", kRevision, "fuzz");
    if (!loaded.ok()) std::abort();
    return *loaded;
  }();
  return *snapshot;
}

// The line with every "sha256": "fuzz" of a policy or manifest replaced by the hash of its text.
std::string WithHashes(std::string_view line) {
  if (line.find("\"fuzz\"") == std::string_view::npos) return std::string(line);
  nlohmann::json op = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!op.is_object()) return std::string(line);
  for (const char* part : {"policy", "manifest"}) {
    auto value = op.find(part);
    if (value == op.end() || !value->is_object()) continue;
    auto sha256 = value->find("sha256");
    auto text = value->find("text");
    if (sha256 != value->end() && *sha256 == "fuzz" && text != value->end() && text->is_string()) {
      *sha256 = protocol::Sha256Hex(text->get_ref<const std::string&>());
    }
  }
  return op.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> lines;
  for (size_t start = 0; start < text.size();) {
    size_t end = std::min(text.find('\n', start), text.size());
    lines.push_back(WithHashes(text.substr(start, end - start)));
    start = end + 1;
  }
  return lines;
}

// Whole parse and piecewise parse of the same body must end the same way.
std::shared_ptr<const Snapshot> ParseBothWays(const std::vector<std::string>& lines, size_t lines_per_piece) {
  std::string body;
  for (const auto& line : lines) body += line + '\n';
  auto whole = protocol::ParseSnapshot(body, kRevision, "fuzz");

  protocol::SnapshotParser parser;
  for (size_t first = 0; first < lines.size(); first += lines_per_piece) {
    std::string piece;
    for (size_t i = first; i < std::min(lines.size(), first + lines_per_piece); ++i) piece += lines[i] + '\n';
    if (!parser.Feed(piece).ok()) break;
  }
  auto pieces = parser.Finish(kRevision, "fuzz");
  if (whole.ok() != pieces.ok()) std::abort();
  if (!whole.ok()) {
    if (whole.status().message() != pieces.status().message()) std::abort();
    return nullptr;
  }
  return *whole;
}

std::vector<std::string> SortedLines(std::string_view body) {
  std::vector<std::string> lines = Lines(body);
  std::sort(lines.begin(), lines.end());
  return lines;
}

// Within the object and relation sections the order is the index order, which depends on the
// order ids were first seen (docs/sync-protocol.md: a receiver must not depend on it); the lines
// themselves must come back the same.
void CheckRoundTrip(const Snapshot& snapshot) {
  auto serialized = protocol::SerializeSnapshot(snapshot);
  auto reparsed = protocol::ParseSnapshot(serialized->body, snapshot.revision, snapshot.store_id);
  if (!reparsed.ok()) std::abort();
  if (SortedLines(protocol::SerializeSnapshot(**reparsed)->body) != SortedLines(serialized->body)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)AuthzenTodo();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t flags = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t nul = rest.find('\0');
  std::string_view body = rest.substr(0, nul);
  std::string_view ops_text = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);

  std::shared_ptr<const Snapshot> parsed = ParseBothWays(Lines(body), 1 + (flags & 7));
  if (parsed) CheckRoundTrip(*parsed);

  nlohmann::json ops_json = nlohmann::json::array();
  for (const auto& line : Lines(ops_text)) {
    nlohmann::json op = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!op.is_discarded()) ops_json.push_back(std::move(op));
  }
  if (ops_json.empty()) return 0;
  auto ops = protocol::OpsFromJson(ops_json);
  if (!ops.ok()) return 0;
  // What is read back must say the same: the change log stores OpsToJson's output.
  auto again = protocol::OpsFromJson(protocol::OpsToJson(*ops));
  if (!again.ok() || protocol::OpsToJson(*again) != protocol::OpsToJson(*ops)) std::abort();

  const Snapshot& base = (flags & 8) && parsed ? *parsed : AuthzenTodo();
  auto next = protocol::ApplyRevision(base, base.revision + 1 + (flags >> 4), *ops);
  if (next.ok()) CheckRoundTrip(**next);
  return 0;
}
