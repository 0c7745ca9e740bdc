#include "edge/decision_segment.h"

#include <functional>
#include <limits>

namespace warden::edge {

namespace {

constexpr size_t kSlots = 1 << 14;              // a power of two
constexpr uint32_t kMaxStrings = kSlots / 2;    // numbered strings per segment; later ones stay literal
constexpr int kStrings = 9;

void AppendVarint(std::string& out, uint64_t value) {
  char bytes[10];
  int length = 0;
  while (value >= 0x80) {
    bytes[length++] = static_cast<char>(value | 0x80);
    value >>= 7;
  }
  bytes[length++] = static_cast<char>(value);
  out.append(bytes, static_cast<size_t>(length));
}

uint64_t ZigZag(int64_t value) { return (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63); }
int64_t UnZigZag(uint64_t value) { return static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1); }

// Reads a segment front to back; every read says whether the bytes were there.
class Reader {
 public:
  explicit Reader(std::string_view body) : at_(body.data()), end_(body.data() + body.size()) {}
  bool done() const { return at_ == end_; }
  bool Varint(uint64_t& value) {
    value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ == end_) return false;
      auto byte = static_cast<unsigned char>(*at_++);
      value |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (byte < 0x80) return true;
    }
    return false;
  }
  bool Byte(unsigned char& value) {
    if (at_ == end_) return false;
    value = static_cast<unsigned char>(*at_++);
    return true;
  }
  bool Bytes(size_t length, std::string_view& out) {
    if (static_cast<size_t>(end_ - at_) < length) return false;
    out = std::string_view(at_, length);
    at_ += length;
    return true;
  }

 private:
  const char* at_;
  const char* end_;
};

}  // namespace

SegmentEncoder::SegmentEncoder() : slots_(kSlots) {}

void SegmentEncoder::Start(std::string& out) {
  out.clear();
  out += kCompactSegmentTag;
  if (++generation_ == 0) {  // wrapped: old generations could be mistaken for this one
    for (auto& slot : slots_) slot.generation = 0;
    generation_ = 1;
  }
  strings_ = 0;
  previous_time_ns_ = 0;
}

void SegmentEncoder::Add(std::string& out, const DecisionEntryView& entry) {
  AppendVarint(out, ZigZag(static_cast<int64_t>(static_cast<uint64_t>(entry.time_ns) -
                                                static_cast<uint64_t>(previous_time_ns_))));
  previous_time_ns_ = entry.time_ns;
  AppendVarint(out, entry.revision);
  out += static_cast<char>(static_cast<int>(entry.api) | (entry.allowed ? 4 : 0) | (entry.cut_fields ? 8 : 0));
  if (entry.cut_fields) AppendVarint(out, entry.cut_fields);
  AppendVarint(out, entry.latency_us);
  for (std::string_view text : {entry.request_id, entry.subject_type, entry.subject_id, entry.action,
                                entry.resource_type, entry.resource_id, entry.policy, entry.rule, entry.reason}) {
    AddString(out, text);
  }
}

void SegmentEncoder::AddString(std::string& out, std::string_view text) {
  if (text.empty()) {
    AppendVarint(out, 0);
    return;
  }
  size_t at = std::hash<std::string_view>{}(text) & (kSlots - 1);
  while (slots_[at].generation == generation_) {
    const Slot& slot = slots_[at];
    if (slot.length == text.size() && std::string_view(out.data() + slot.offset, slot.length) == text) {
      AppendVarint(out, 2 * uint64_t{slot.number} + 1);
      return;
    }
    at = (at + 1) & (kSlots - 1);
  }
  AppendVarint(out, 2 * uint64_t{text.size()});
  // Every literal takes the next number while there is room, as the decoder numbers them; past
  // the room, or where its offset would not fit, it is written out again when it recurs.
  if (strings_ < kMaxStrings) {
    uint32_t number = strings_++;
    if (out.size() + text.size() <= std::numeric_limits<uint32_t>::max()) {
      slots_[at] = {generation_, static_cast<uint32_t>(out.size()), static_cast<uint32_t>(text.size()), number};
    }
  }
  out.append(text);
}

Result<size_t> DecodeSegment(std::string_view body, std::string_view instance_id, uint64_t first_sequence,
                             size_t skip, size_t take, std::string& out, size_t max_field_bytes,
                             size_t max_out_bytes) {
  auto damaged = [] { return Status::Internal("decision-log spool: a damaged compact segment"); };
  if (!IsCompactSegment(body)) return damaged();
  Reader reader(body.substr(1));
  std::vector<std::string_view> strings;
  int64_t time_ns = 0;
  size_t appended = 0;
  for (size_t index = 0; index < skip + take; ++index) {
    if (reader.done()) return damaged();
    uint64_t delta, revision, latency, cut_fields = 0;
    unsigned char flags;
    if (!reader.Varint(delta) || !reader.Varint(revision) || !reader.Byte(flags) ||
        ((flags & 8) && !reader.Varint(cut_fields)) || !reader.Varint(latency)) {
      return damaged();
    }
    // Bits no encoder sets, or a cut mark naming no field: not what was written.
    if ((flags & ~0xF) != 0 || cut_fields >= (1u << kCappedFieldCount)) return damaged();
    time_ns = static_cast<int64_t>(static_cast<uint64_t>(time_ns) + static_cast<uint64_t>(UnZigZag(delta)));
    std::string_view fields[kStrings];
    for (auto& field : fields) {
      uint64_t tag;
      if (!reader.Varint(tag)) return damaged();
      if (tag & 1) {
        if ((tag >> 1) >= strings.size()) return damaged();
        field = strings[tag >> 1];
      } else {
        if (!reader.Bytes(tag >> 1, field)) return damaged();
        if (!field.empty() && strings.size() < kMaxStrings) strings.push_back(field);
      }
    }
    if (index < skip) continue;
    if ((flags & 3) >= kDecisionApiCount) return damaged();
    DecisionEntryView entry{time_ns,   revision,  static_cast<DecisionApi>(flags & 3),
                            fields[0], fields[1], fields[2], fields[3], fields[4], fields[5], (flags & 4) != 0,
                            fields[6], fields[7], fields[8], static_cast<uint32_t>(latency),
                            static_cast<uint16_t>(cut_fields)};
    size_t before = out.size();
    AppendEntryText(out, CapFields(entry, max_field_bytes), instance_id, first_sequence + index,
                    std::numeric_limits<size_t>::max());
    out += '\n';
    if (out.size() > max_out_bytes && before > 0) {
      out.resize(before);
      break;
    }
    ++appended;
  }
  return appended;
}

}  // namespace warden::edge
