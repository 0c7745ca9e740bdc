#include "edge/sync_receiver.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/http/json_fast_parse.h"
#include "common/protocol/relation_delta.h"

namespace warden::edge {

using nlohmann::json;

namespace {

// A whole-number field, or `fallback` when absent. Anything else (a fraction, 1e57, a string) is
// a hub not speaking the protocol: the type_error ends the session, where converting it would be
// undefined behaviour.
template <typename T>
T Whole(const json& message, const char* field, T fallback) {
  auto it = message.find(field);
  if (it == message.end()) return fallback;
  if (!it->is_number_integer()) {
    throw json::type_error::create(302, std::string(field) + ": must be a whole number", &*it);
  }
  return it->get<T>();
}

// The revision a hub message names, or 0 when it names none (or not as a whole number).
uint64_t RevisionOf(const json& message) {
  auto it = message.find("revision");
  return it != message.end() && it->is_number_unsigned() ? it->get<uint64_t>() : 0;
}

bool IsDelta(const json& message) {
  auto type = message.find("type");
  return type != message.end() && type->is_string() && type->get_ref<const std::string&>() == "delta";
}

std::string AckText(uint64_t revision) { return R"({"type":"ack","revision":)" + std::to_string(revision) + "}"; }

// Deeper messages (an object's properties may nest) are left to nlohmann, which parses them alike.
constexpr int kFastParseDepth = 128;

// The message as a JSON document; discarded when it is not JSON. The fast parser builds the same
// document as nlohmann's with a third fewer instructions on a delta (json_fast_parse.h); what it
// does not take goes to nlohmann.
json ParseMessage(std::string_view text) {
  json message;
  if (http::FastParseJson(text, kFastParseDepth, message)) return message;
  return json::parse(text, nullptr, false);
}

}  // namespace

SyncReceiver::Actions SyncReceiver::Handle(std::string_view text, bool more_waiting) {
  Actions actions;
  // The commonest message, read without a JSON document (relation_delta.h); the rest below.
  uint64_t fast_revision = 0;
  std::vector<protocol::DeltaOp> fast_ops;
  if (!halted_ && protocol::ParseRelationDelta(text, fast_revision, fast_ops)) {
    HoldBack({fast_revision, std::move(fast_ops), std::string(text)}, more_waiting, actions);
    return actions;
  }
  // The parts of a large revision (an import's relations), likewise.
  uint64_t part_index = 0;
  std::string_view part_ops_text;
  if (!halted_ && protocol::ParseRelationPart(text, fast_revision, part_index, fast_ops, part_ops_text)) {
    FlushInto(actions);
    if (!actions.end && !halted_) TakePart(fast_revision, std::move(fast_ops), part_ops_text, actions);
    return actions;
  }
  json message = ParseMessage(text);
  if (message.is_discarded() || !message.is_object()) {
    FlushInto(actions);
    actions.ended = Status::Unavailable("the hub sent a message that is not a JSON object");
    actions.end = true;
    return actions;
  }
  try {
    if (!halted_ && IsDelta(message)) {
      Hold(message, text, RevisionOf(message), more_waiting, actions);
      return actions;
    }
    // Whatever else arrives comes after the held-back deltas, so they are applied first.
    FlushInto(actions);
    if (actions.end) return actions;
    Dispatch(message, actions);
  } catch (const json::exception& error) {
    // A field of the wrong type (a string where a number belongs): the hub is not speaking the
    // protocol, and nothing else it sends on this session can be trusted either.
    actions.ended = Status::Internal(std::string("sync session failed: ") + error.what());
    actions.end = true;
  }
  return actions;
}

SyncReceiver::Actions SyncReceiver::Flush() {
  Actions actions;
  FlushInto(actions);
  return actions;
}

void SyncReceiver::Hold(const json& message, std::string_view message_text, uint64_t revision, bool more_waiting,
                        Actions& actions) {
  auto ops_field = message.find("ops");
  auto ops = ops_field == message.end() ? protocol::OpsFromJson(json::array()) : protocol::OpsFromJson(*ops_field);
  if (!ops.ok()) {
    FlushInto(actions);
    if (!actions.end && !halted_) {
      Answer(Status::InvalidArgument("cannot_apply: " + ops.status().message()), revision, actions);
    }
    return;
  }
  HoldBack({revision, std::move(*ops), std::string(message_text)}, more_waiting, actions);
}

void SyncReceiver::HoldBack(DeltaRevision delta, bool more_waiting, Actions& actions) {
  held_back_bytes_ += delta.message.size();
  held_back_.push_back(std::move(delta));
  if (!more_waiting || held_back_.size() >= kMaxBatchRevisions || held_back_bytes_ >= kMaxBatchBytes) {
    FlushInto(actions);
  }
}

void SyncReceiver::FlushInto(Actions& actions) {
  if (held_back_.empty()) return;
  SyncApplier::Applied applied = applier_.ApplyDeltas(held_back_);
  // Each revision is acked, even when several were applied as one step.
  for (size_t i = 0; i < applied.held; ++i) actions.send.push_back(AckText(held_back_[i].revision));
  if (applied.held > 0) applier_.SetState("following", "");
  if (applied.held < held_back_.size()) Answer(applied.status, held_back_[applied.held].revision, actions);
  held_back_.clear();
  held_back_bytes_ = 0;
}

void SyncReceiver::TakePart(uint64_t revision, std::vector<protocol::DeltaOp> ops, std::string_view ops_text,
                            Actions& actions) {
  if (revision != parts_revision_ || revision == 0) {
    Answer(Status::InvalidArgument("cannot_apply: a bad rev_part"), revision, actions);
    return;
  }
  if (parts_ops_.empty()) {
    parts_ops_ = std::move(ops);
  } else {
    parts_ops_.insert(parts_ops_.end(), std::make_move_iterator(ops.begin()), std::make_move_iterator(ops.end()));
  }
  // The ops' text, "[...]", joined to the earlier parts' as the revision's journal record.
  std::string_view inner = ops_text.substr(1, ops_text.size() - 2);
  while (!inner.empty() && (inner.front() == ' ' || inner.front() == '\n' || inner.front() == '\t' || inner.front() == '\r')) {
    inner.remove_prefix(1);
  }
  if (parts_text_whole_ && !inner.empty()) {
    if (!parts_text_.empty()) parts_text_ += ',';
    parts_text_ += inner;
  }
}

void SyncReceiver::Answer(const Status& applied, uint64_t revision, Actions& actions) {
  if (applied.ok()) {
    actions.send.push_back(AckText(revision));
    applier_.SetState("following", "");
    return;
  }
  std::string code = SyncApplier::NackCode(applied);
  actions.send.push_back(
      json{{"type", "nack"}, {"revision", revision}, {"code", code}, {"message", applied.message()}}.dump());
  if (code == "gap" || code == "hash_mismatch") {
    actions.ended = Status::Unavailable("resyncing after " + code + ": " + applied.message());
    actions.end = true;
    return;
  }
  // Keeps serving the last good revision whole; stays connected for heartbeats only.
  applier_.SetState("degraded", applied.message());
  halted_ = true;
  halted_at_ = std::chrono::steady_clock::now();
}

void SyncReceiver::Dispatch(const json& message, Actions& actions) {
  std::string type = message.value("type", std::string());
  uint64_t revision = RevisionOf(message);
  if (type == "welcome") {
    // Bounded so the silence limit (3 intervals) cannot overflow and a heartbeat cannot spin; the
    // hub's own floor is 10 ms.
    actions.heartbeat = std::chrono::milliseconds(
        std::clamp(Whole<int64_t>(message, "heartbeat_ms", 10'000), int64_t{10}, kMaxHeartbeatMs));
    applier_.SetHubRevision(Whole<uint64_t>(message, "revision", 0));
    applier_.SetState("following", "");
    if (!heartbeats_started_) {
      heartbeats_started_ = true;
      actions.start_heartbeats = true;
    }
  } else if (type == "heartbeat") {
    applier_.SetHubRevision(revision);
  } else if (type == "decision_logs_ack") {
    // A batch id that is not a whole number acknowledges nothing; the batch goes again after its
    // timeout.
    auto batch = message.find("batch");
    if (batch == message.end() || batch->is_number_integer()) actions.log_batch_acked = Whole<uint64_t>(message, "batch", 0);
  } else if (type == "decision_logs_refused") {
    // The decision log decides what a refusal means for the batch (split it, drop an entry, wait).
    auto batch = message.find("batch");
    if (batch == message.end() || batch->is_number_integer()) {
      auto text = [&message](const char* field) {
        auto it = message.find(field);
        return it != message.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      actions.log_batch_refused = Actions::LogBatchRefused{Whole<uint64_t>(message, "batch", 0), text("code"),
                                                           text("message")};
    }
  } else if (halted_) {
    return;  // nothing past the refused revision can be applied
  } else if (type == "rev_begin") {
    parts_revision_ = revision;
    parts_ops_.clear();
    parts_text_.clear();
    parts_text_whole_ = true;
    // The hub holds this revision now, while its parts are still on the way.
    applier_.SetHubRevisionAtLeast(revision);
    parts_started_ = std::chrono::steady_clock::now();
  } else if (type == "rev_part") {
    auto ops = protocol::OpsFromJson(message.value("ops", json::array()));
    if (!ops.ok() || revision != parts_revision_) {
      Answer(Status::InvalidArgument("cannot_apply: a bad rev_part"), revision, actions);
      return;
    }
    for (auto& op : *ops) parts_ops_.push_back(std::move(op));
    parts_text_whole_ = false;  // the journal serializes the ops instead
  } else if (type == "rev_commit") {
    Status applied = Status::FailedPrecondition("gap: rev_commit without its rev_begin");
    if (revision == parts_revision_) {
      std::string journaled;
      if (parts_text_whole_) {
        journaled.reserve(parts_text_.size() + 10);
        journaled += R"({"ops":[)";
        journaled += parts_text_;
        journaled += "]}";
      }
      std::string().swap(parts_text_);
      spdlog::info("sync: revision {} received in parts ({} ops) over {:.0f} ms", revision, parts_ops_.size(),
                   std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - parts_started_).count());
      DeltaRevision whole{revision, std::move(parts_ops_), std::move(journaled)};
      applied = applier_.ApplyDeltas(std::span(&whole, 1)).status;
    }
    parts_ops_.clear();
    parts_revision_ = 0;
    Answer(applied, revision, actions);
  } else if (type == "snapshot_begin") {
    in_snapshot_ = true;
    snapshot_revision_ = revision;
    applier_.SetHubRevisionAtLeast(revision);
    snapshot_store_ = message.value("store_id", std::string());
    snapshot_parser_ = std::make_unique<protocol::SnapshotParser>(applier_.expression_limits());
    snapshot_hash_.Reset();
    snapshot_started_ = std::chrono::steady_clock::now();
    next_chunk_ = 0;
    spdlog::info("sync: receiving the snapshot of revision {} ({} chunks)", revision, Whole<int64_t>(message, "chunks", 0));
  } else if (type == "snapshot_chunk") {
    if (!in_snapshot_ || Whole<size_t>(message, "index", 0) != next_chunk_) {
      actions.ended = Status::Unavailable("snapshot chunk out of order");
      actions.end = true;
      return;
    }
    auto data = message.find("data");
    if (data == message.end() || !data->is_string()) {
      actions.ended = Status::Unavailable("snapshot chunk without data");
      actions.end = true;
      return;
    }
    const std::string& piece = data->get_ref<const std::string&>();
    snapshot_hash_.Update(piece);
    (void)snapshot_parser_->Feed(piece);  // an error sticks and is reported at the end
    ++next_chunk_;
  } else if (type == "snapshot_end") {
    in_snapshot_ = false;
    std::string computed = snapshot_hash_.HexDigest();
    std::string expected = message.value("sha256", std::string());
    auto parser = std::move(snapshot_parser_);
    Status applied;
    if (!parser) {
      applied = Status::FailedPrecondition("gap: snapshot_end without snapshot_begin");
    } else if (computed != expected) {
      applied = Status::InvalidArgument("hash_mismatch: the snapshot of revision " + std::to_string(snapshot_revision_) +
                                        " hashes to " + computed + ", its trailer says " + expected);
    } else {
      applied = applier_.InstallSnapshot(parser->Finish(snapshot_revision_, snapshot_store_), snapshot_revision_,
                                         snapshot_started_);
    }
    parser.reset();
    Answer(applied, snapshot_revision_, actions);
  } else if (type == "error") {
    std::string code = message.value("code", std::string());
    actions.ended = code == "key_revoked" ? Status::PermissionDenied("the control plane revoked this edge's key")
                                          : Status::Unavailable("the hub ended the session: " + code + ": " +
                                                                message.value("message", std::string()));
    if (code == "key_revoked") actions.key_refused = true;
    if (code == "unsupported_protocol") {
      actions.ended = Status::FailedPrecondition("unsupported_protocol: " + message.value("message", std::string()));
    }
  }
}

}  // namespace warden::edge
