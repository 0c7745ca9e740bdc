// A decision-log entry in its three forms: what a request thread knows (DecisionEntryView, or
// the owning DecisionEntry), what waits in the queue (PackedDecision), and the JSON line it is
// spooled and shipped as (AppendEntryText; EntryJson when fields are to be masked).
//
// The forms exist for the check's sake: recording copies the entry's bytes into a queue slot
// (no allocation unless its strings together exceed the slot's inline room), and everything
// costlier (the sequence, the text, the time as RFC 3339) happens on the writer thread.
//
// Every string field is cut at a bound (--decision-log-max-field) as the entry is packed: a caller
// who sends a 3 MB subject id must not make a batch the control plane refuses, and cutting there
// also spares the check copying the bytes. A cut field is named in the entry's "truncated" list.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace warden::edge {

enum class DecisionApi { kAuthzen = 0, kCerbos = 1, kDirectory = 2 };
inline constexpr int kDecisionApiCount = 3;
inline constexpr const char* kDecisionApiNames[kDecisionApiCount] = {"authzen", "cerbos", "directory"};

// The string fields cut at the field bound, in PackedDecision's order, by the JSON pointers the
// "truncated" list names them with (bit i of DecisionEntryView::cut_fields is field i).
inline constexpr int kCappedFieldCount = 8;
inline constexpr const char* kCappedFieldPointers[kCappedFieldCount] = {
    "/request_id", "/subject/type", "/subject/id", "/action", "/resource/type", "/resource/id", "/policy", "/rule"};
inline constexpr size_t kDefaultMaxFieldBytes = 16 << 10;

// What one decision was, as views of what the request holds: valid only during the Record call.
struct DecisionEntryView {
  int64_t time_ns = 0;  // unix nanoseconds
  uint64_t revision = 0;
  DecisionApi api = DecisionApi::kAuthzen;
  std::string_view request_id;
  std::string_view subject_type, subject_id;
  std::string_view action;
  std::string_view resource_type, resource_id;
  bool allowed = false;
  std::string_view policy;  // the matched policy, when a policy decided
  std::string_view rule;    // the deciding rule
  std::string_view reason;  // one line: why (cut at the log's max_reason_bytes)
  uint32_t latency_us = 0;
  uint16_t cut_fields = 0;  // bit i: kCappedFieldPointers[i] was cut at the field bound
};

// The same, owning its strings: for callers that build the strings anyway, and for tests.
struct DecisionEntry {
  int64_t time_ns = 0;
  uint64_t revision = 0;
  DecisionApi api = DecisionApi::kAuthzen;
  std::string request_id;
  std::string subject_type, subject_id;
  std::string action;
  std::string resource_type, resource_id;
  bool allowed = false;
  std::string policy;
  std::string rule;
  std::string reason;
  uint32_t latency_us = 0;

  DecisionEntryView View() const {
    return {time_ns, revision, api, request_id, subject_type, subject_id, action, resource_type, resource_id,
            allowed,  policy,   rule, reason,     latency_us};
  }
};

// `text` cut to at most `max_bytes`, at a UTF-8 character boundary.
std::string_view CutUtf8(std::string_view text, size_t max_bytes);

// `entry` with every capped field cut at `max_field_bytes` (at a character boundary) and marked
// in cut_fields. No allocation: the views shrink.
DecisionEntryView CapFields(const DecisionEntryView& entry, size_t max_field_bytes);

// An entry as one queue slot holds it: fixed fields, then the strings back to back in an inline
// buffer (or, when they exceed it, in one heap block). Moving it copies only the bytes in use.
class PackedDecision {
 public:
  // Room for the strings of a typical entry (ids, names, a one-line reason: about 150 bytes).
  static constexpr size_t kInlineBytes = 256;

  PackedDecision() = default;
  PackedDecision(PackedDecision&& other) noexcept { MoveFrom(other); }
  PackedDecision& operator=(PackedDecision&& other) noexcept {
    if (this != &other) MoveFrom(other);
    return *this;
  }
  PackedDecision(const PackedDecision&) = delete;
  PackedDecision& operator=(const PackedDecision&) = delete;

  // Copies `entry`, its reason cut at `max_reason_bytes` and its other strings at
  // `max_field_bytes` (CapFields). Allocates only when the strings together exceed kInlineBytes.
  void Pack(const DecisionEntryView& entry, size_t max_reason_bytes, size_t max_field_bytes = kDefaultMaxFieldBytes);
  // Views into this object: valid until it is changed or destroyed.
  DecisionEntryView View() const;

 private:
  static constexpr int kStrings = 9;
  void MoveFrom(PackedDecision& other) noexcept;
  const char* bytes() const { return overflow_ ? overflow_.get() : inline_; }

  int64_t time_ns_ = 0;
  uint64_t revision_ = 0;
  uint32_t latency_us_ = 0;
  uint8_t api_ = 0;
  bool allowed_ = false;
  uint16_t cut_fields_ = 0;
  uint32_t used_ = 0;                 // bytes of strings in inline_ or overflow_
  uint32_t lengths_[kStrings] = {};   // request_id, subject type and id, action, resource type and
                                      // id, policy, rule, reason: in this order in the bytes
  std::unique_ptr<char[]> overflow_;  // set when used_ > kInlineBytes
  char inline_[kInlineBytes];
};

// Appends the entry's JSON (one line, no newline) to `out`: the stored and shipped form when
// nothing is masked. The reason is cut at `max_reason_bytes`; the fields in cut_fields are listed
// as "truncated": ["/subject/id", ...].
void AppendEntryText(std::string& out, const DecisionEntryView& entry, std::string_view instance_id,
                     uint64_t sequence, size_t max_reason_bytes);

// The same entry as a JSON tree, for masking by JSON pointer.
nlohmann::json EntryJson(const DecisionEntryView& entry, std::string_view instance_id, uint64_t sequence,
                         size_t max_reason_bytes);

}  // namespace warden::edge
