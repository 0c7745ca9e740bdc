// The compact form of a spool segment: the entries the writer took in one turn, each as a few
// numbers and nine strings, where a string already seen in the segment is written as its number.
//
// Spooling JSON cost the edge more than anything else in logging: writing the text, then
// copying, syncing and checkpointing ~400 bytes per entry. Entries repeat most of their strings
// (types, actions, policies, rules, reasons, often the ids), so a segment in this form is several
// times smaller, and the JSON is written only when it is shipped. The control plane receives the
// same JSON either way (DecodeSegment writes it with AppendEntryText). Segments written while
// fields are masked stay JSON lines (masking works on the JSON), as do segments of older spools.
//
// Layout: kCompactSegmentTag, then per entry: varint zigzag(time_ns - previous entry's time_ns),
// varint revision, byte (api | allowed << 2 | cut << 3), when cut a varint of the entry's
// cut_fields, varint latency_us, then the nine strings in
// PackedDecision's order, each a varint: 2n + 1 for the segment's n-th distinct non-empty string,
// or 2 * length followed by the bytes (a string not seen before, or an empty one).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/status.h"
#include "edge/decision_entry.h"

namespace warden::edge {

// A segment's first byte in the compact form; JSON lines start with '{'.
inline constexpr char kCompactSegmentTag = '\x01';

inline bool IsCompactSegment(std::string_view body) { return !body.empty() && body[0] == kCompactSegmentTag; }

// Appends entries to a compact segment. One writer per segment; Start() begins the next.
class SegmentEncoder {
 public:
  SegmentEncoder();
  // Clears `out` and begins a segment in it.
  void Start(std::string& out);
  // Appends one entry to the segment Start() began in `out`.
  void Add(std::string& out, const DecisionEntryView& entry);

 private:
  void AddString(std::string& out, std::string_view text);

  // The segment's distinct strings, by hash: where each is in `out` and its number. A slot is in
  // use when its generation is the segment's, so starting a segment clears nothing.
  struct Slot {
    uint32_t generation = 0;
    uint32_t offset = 0;
    uint32_t length = 0;
    uint32_t number = 0;
  };
  std::vector<Slot> slots_;
  uint32_t generation_ = 0;
  uint32_t strings_ = 0;
  int64_t previous_time_ns_ = 0;
};

// Appends the JSON lines of entries [skip, skip + take) of a compact segment to `out`, numbered
// from `first_sequence` (the segment's first entry's sequence), and returns how many it appended.
// Fields are cut at `max_field_bytes` (CapFields: a segment spooled before the bound, or under a
// larger one, ships within today's). It stops before an entry that would take `out` past
// `max_out_bytes`, unless `out` is empty (one entry always goes). Internal for a damaged segment.
Result<size_t> DecodeSegment(std::string_view body, std::string_view instance_id, uint64_t first_sequence,
                             size_t skip, size_t take, std::string& out,
                             size_t max_field_bytes = std::numeric_limits<size_t>::max(),
                             size_t max_out_bytes = std::numeric_limits<size_t>::max());

}  // namespace warden::edge
