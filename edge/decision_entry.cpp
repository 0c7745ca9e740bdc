#include "edge/decision_entry.h"

#include <charconv>
#include <ctime>

#include "common/util/json_text.h"

namespace warden::edge {

std::string_view CutUtf8(std::string_view text, size_t max_bytes) {
  size_t cut = std::min(text.size(), max_bytes);
  // Back off continuation bytes (10xxxxxx) so a character is never split.
  while (cut > 0 && cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

DecisionEntryView CapFields(const DecisionEntryView& entry, size_t max_field_bytes) {
  DecisionEntryView capped = entry;
  std::string_view* fields[kCappedFieldCount] = {&capped.request_id,    &capped.subject_type, &capped.subject_id,
                                                 &capped.action,        &capped.resource_type, &capped.resource_id,
                                                 &capped.policy,        &capped.rule};
  for (int i = 0; i < kCappedFieldCount; ++i) {
    if (fields[i]->size() <= max_field_bytes) continue;
    *fields[i] = CutUtf8(*fields[i], max_field_bytes);
    capped.cut_fields = static_cast<uint16_t>(capped.cut_fields | (1u << i));
  }
  return capped;
}

void PackedDecision::Pack(const DecisionEntryView& original, size_t max_reason_bytes, size_t max_field_bytes) {
  const DecisionEntryView entry = CapFields(original, max_field_bytes);
  time_ns_ = entry.time_ns;
  revision_ = entry.revision;
  latency_us_ = entry.latency_us;
  api_ = static_cast<uint8_t>(entry.api);
  allowed_ = entry.allowed;
  cut_fields_ = entry.cut_fields;
  const std::string_view strings[kStrings] = {entry.request_id,  entry.subject_type, entry.subject_id,
                                              entry.action,      entry.resource_type, entry.resource_id,
                                              entry.policy,      entry.rule,
                                              CutUtf8(entry.reason, max_reason_bytes)};
  size_t total = 0;
  for (const auto& text : strings) total += text.size();
  char* out = inline_;
  overflow_.reset();
  if (total > kInlineBytes) {
    overflow_.reset(new char[total]);  // the one allocation, for unusually long strings
    out = overflow_.get();
  }
  for (int i = 0; i < kStrings; ++i) {
    lengths_[i] = static_cast<uint32_t>(strings[i].size());
    if (!strings[i].empty()) std::memcpy(out, strings[i].data(), strings[i].size());
    out += strings[i].size();
  }
  used_ = static_cast<uint32_t>(total);
}

void PackedDecision::MoveFrom(PackedDecision& other) noexcept {
  time_ns_ = other.time_ns_;
  revision_ = other.revision_;
  latency_us_ = other.latency_us_;
  api_ = other.api_;
  allowed_ = other.allowed_;
  cut_fields_ = other.cut_fields_;
  used_ = other.used_;
  std::memcpy(lengths_, other.lengths_, sizeof lengths_);
  overflow_ = std::move(other.overflow_);
  if (!overflow_ && used_ > 0) std::memcpy(inline_, other.inline_, used_);  // only the bytes in use
}

DecisionEntryView PackedDecision::View() const {
  std::string_view strings[kStrings];
  const char* at = bytes();
  for (int i = 0; i < kStrings; ++i) {
    strings[i] = std::string_view(at, lengths_[i]);
    at += lengths_[i];
  }
  return {time_ns_,   revision_,  static_cast<DecisionApi>(api_), strings[0], strings[1], strings[2], strings[3],
          strings[4], strings[5], allowed_,                       strings[6], strings[7], strings[8], latency_us_,
          cut_fields_};
}

namespace {

template <typename Number>
void AppendNumber(std::string& out, Number value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

// "2026-11-29T15:33:12.565241592Z", as Rfc3339Nanos writes it. The date and time of day change
// once a second while the writer formats thousands of entries, so they are kept per thread.
void AppendRfc3339Nanos(std::string& out, int64_t unix_ns) {
  thread_local int64_t cached_second = INT64_MIN;
  thread_local char cached_text[20];  // "YYYY-MM-DDTHH:MM:SS"
  int64_t second = unix_ns / 1'000'000'000;
  int64_t nanos = unix_ns % 1'000'000'000;
  if (nanos < 0) {  // before 1970: the fraction counts up from the earlier second
    nanos += 1'000'000'000;
    --second;
  }
  if (second != cached_second) {
    time_t seconds = static_cast<time_t>(second);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    std::strftime(cached_text, sizeof cached_text, "%Y-%m-%dT%H:%M:%S", &utc);
    cached_second = second;
  }
  char fraction[11] = {'.'};
  for (int i = 9; i >= 1; --i) {
    fraction[i] = static_cast<char>('0' + nanos % 10);
    nanos /= 10;
  }
  fraction[10] = 'Z';
  out.append(cached_text, 19);
  out.append(fraction, 11);
}

}  // namespace

void AppendEntryText(std::string& out, const DecisionEntryView& entry, std::string_view instance_id,
                     uint64_t sequence, size_t max_reason_bytes) {
  out += "{\"instance_id\":";
  AppendJsonString(out, instance_id);
  out += ",\"sequence\":";
  AppendNumber(out, sequence);
  out += ",\"time\":\"";
  AppendRfc3339Nanos(out, entry.time_ns);
  out += "\",\"revision\":";
  AppendNumber(out, entry.revision);
  out += ",\"api\":\"";
  out += kDecisionApiNames[static_cast<int>(entry.api)];
  out += "\",\"subject\":{\"type\":";
  AppendJsonString(out, entry.subject_type);
  out += ",\"id\":";
  AppendJsonString(out, entry.subject_id);
  out += "},\"action\":";
  AppendJsonString(out, entry.action);
  out += ",\"resource\":{\"type\":";
  AppendJsonString(out, entry.resource_type);
  out += ",\"id\":";
  AppendJsonString(out, entry.resource_id);
  out += entry.allowed ? "},\"decision\":\"allow\"" : "},\"decision\":\"deny\"";
  out += ",\"latency_us\":";
  AppendNumber(out, entry.latency_us);
  if (!entry.request_id.empty()) {
    out += ",\"request_id\":";
    AppendJsonString(out, entry.request_id);
  }
  if (!entry.policy.empty()) {
    out += ",\"policy\":";
    AppendJsonString(out, entry.policy);
  }
  if (!entry.rule.empty()) {
    out += ",\"rule\":";
    AppendJsonString(out, entry.rule);
  }
  std::string_view reason = CutUtf8(entry.reason, max_reason_bytes);
  if (!reason.empty()) {
    out += ",\"reason\":";
    AppendJsonString(out, reason);
  }
  if (entry.cut_fields != 0) {
    out += ",\"truncated\":[";
    bool first = true;
    for (int i = 0; i < kCappedFieldCount; ++i) {
      if (!(entry.cut_fields & (1u << i))) continue;
      if (!first) out += ',';
      first = false;
      out += '"';
      out += kCappedFieldPointers[i];
      out += '"';
    }
    out += ']';
  }
  out += '}';
}

nlohmann::json EntryJson(const DecisionEntryView& entry, std::string_view instance_id, uint64_t sequence,
                         size_t max_reason_bytes) {
  using nlohmann::json;
  std::string time;
  AppendRfc3339Nanos(time, entry.time_ns);
  json out = {{"instance_id", instance_id},
              {"sequence", sequence},
              {"time", std::move(time)},
              {"revision", entry.revision},
              {"api", kDecisionApiNames[static_cast<int>(entry.api)]},
              {"subject", {{"type", entry.subject_type}, {"id", entry.subject_id}}},
              {"action", entry.action},
              {"resource", {{"type", entry.resource_type}, {"id", entry.resource_id}}},
              {"decision", entry.allowed ? "allow" : "deny"},
              {"latency_us", entry.latency_us}};
  if (!entry.request_id.empty()) out["request_id"] = entry.request_id;
  if (!entry.policy.empty()) out["policy"] = entry.policy;
  if (!entry.rule.empty()) out["rule"] = entry.rule;
  std::string_view reason = CutUtf8(entry.reason, max_reason_bytes);
  if (!reason.empty()) out["reason"] = reason;
  if (entry.cut_fields != 0) {
    json& cut = out["truncated"] = json::array();
    for (int i = 0; i < kCappedFieldCount; ++i) {
      if (entry.cut_fields & (1u << i)) cut.push_back(kCappedFieldPointers[i]);
    }
  }
  return out;
}

}  // namespace warden::edge
