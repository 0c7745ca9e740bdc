#include "common/cel/value.h"

#include <cassert>
#include <cmath>
#include <functional>
#include <limits>

#include <nlohmann/json.hpp>

#include "common/cel/internal/encoding.h"
#include "common/cel/internal/numeric.h"
#include "common/cel/internal/time_util.h"

namespace warden::cel {
namespace {

using StringRep = std::string;

std::shared_ptr<const void> MakeString(std::string s) {
  return std::make_shared<const StringRep>(std::move(s));
}

bool IsValidKeyKind(Kind k) {
  return k == Kind::kBool || k == Kind::kInt || k == Kind::kUint || k == Kind::kString;
}

uint64_t HashString(std::string_view s) { return std::hash<std::string_view>{}(s); }

}  // namespace

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kNull: return "null_type";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kUint: return "uint";
    case Kind::kDouble: return "double";
    case Kind::kString: return "string";
    case Kind::kBytes: return "bytes";
    case Kind::kList: return "list";
    case Kind::kMap: return "map";
    case Kind::kTimestamp: return "google.protobuf.Timestamp";
    case Kind::kDuration: return "google.protobuf.Duration";
    case Kind::kType: return "type";
    case Kind::kOpaque: return "opaque";
    case Kind::kError: return "*error*";
    case Kind::kUnknown: return "*unknown*";
  }
  return "?";
}

Value Value::Bool(bool v) {
  Value out;
  out.kind_ = Kind::kBool;
  out.scalar_.i = 0;
  out.scalar_.b = v;
  return out;
}
Value Value::Int(int64_t v) {
  Value out;
  out.kind_ = Kind::kInt;
  out.scalar_.i = v;
  return out;
}
Value Value::Uint(uint64_t v) {
  Value out;
  out.kind_ = Kind::kUint;
  out.scalar_.u = v;
  return out;
}
Value Value::Double(double v) {
  Value out;
  out.kind_ = Kind::kDouble;
  out.scalar_.d = v;
  return out;
}
Value Value::String(std::string v) {
  Value out;
  out.kind_ = Kind::kString;
  out.heap_ = MakeString(std::move(v));
  return out;
}
Value Value::Bytes(std::string v) {
  Value out;
  out.kind_ = Kind::kBytes;
  out.heap_ = MakeString(std::move(v));
  return out;
}
Value Value::Type(std::string name) {
  Value out;
  out.kind_ = Kind::kType;
  out.heap_ = MakeString(std::move(name));
  return out;
}
Value Value::Opaque(std::shared_ptr<const OpaqueValue> value) {
  Value out;
  out.kind_ = Kind::kOpaque;
  out.heap_ = std::move(value);
  return out;
}
Value Value::Error(std::string message) {
  Value out;
  out.kind_ = Kind::kError;
  out.heap_ = MakeString(std::move(message));
  return out;
}
Value Value::Unknown(std::string path) {
  Value out;
  out.kind_ = Kind::kUnknown;
  out.heap_ = MakeString(std::move(path));
  return out;
}
Value Value::List(ListValue items) {
  Value out;
  out.kind_ = Kind::kList;
  out.heap_ = std::make_shared<const ListValue>(std::move(items));
  return out;
}

Value Value::TimestampOf(Timestamp t) {
  if (!internal::TimestampInRange(t)) return Error("timestamp out of range");
  Value out;
  out.kind_ = Kind::kTimestamp;
  out.scalar_.t.seconds = t.seconds;
  out.scalar_.t.nanos = t.nanos;
  return out;
}

Value Value::DurationOf(Duration d) {
  if (!internal::DurationInRange(d)) return Error("duration out of range");
  Value out;
  out.kind_ = Kind::kDuration;
  out.scalar_.t.seconds = d.seconds;
  out.scalar_.t.nanos = d.nanos;
  return out;
}

Value Value::Map(std::vector<std::pair<Value, Value>> entries) {
  auto map = std::make_shared<MapValue>();
  map->entries_.reserve(entries.size());
  for (auto& [key, value] : entries) {
    if (key.is_exceptional()) return key;
    if (value.is_exceptional()) return value;
    if (!IsValidKeyKind(key.kind())) {
      return Error("unsupported key type: " + std::string(KindName(key.kind())));
    }
    if (map->Find(key) != nullptr) return Error("Failed with repeated key: " + key.DebugString());
    map->entries_.emplace_back(std::move(key), std::move(value));
    // Keep lookups fast while building large maps: rebuild the index at powers of two.
    size_t n = map->entries_.size();
    if (n > 8 && (n & (n - 1)) == 0) {
      map->string_index_.assign(n * 4, 0);
      for (uint32_t i = 0; i < n; ++i) {
        const Value& k = map->entries_[i].first;
        if (k.kind() != Kind::kString) continue;
        size_t mask = map->string_index_.size() - 1;
        size_t slot = HashString(k.string_value()) & mask;
        while (map->string_index_[slot] != 0) slot = (slot + 1) & mask;
        map->string_index_[slot] = i + 1;
      }
    } else if (!map->string_index_.empty() && map->entries_.back().first.kind() == Kind::kString) {
      size_t mask = map->string_index_.size() - 1;
      size_t slot = HashString(map->entries_.back().first.string_value()) & mask;
      while (map->string_index_[slot] != 0) slot = (slot + 1) & mask;
      map->string_index_[slot] = static_cast<uint32_t>(n);
    }
  }
  Value out;
  out.kind_ = Kind::kMap;
  out.heap_ = std::move(map);
  return out;
}

std::string_view Value::string_value() const {
  assert(kind_ == Kind::kString || kind_ == Kind::kBytes);
  return *static_cast<const StringRep*>(heap_.get());
}
std::string_view Value::type_name() const {
  assert(kind_ == Kind::kType);
  return *static_cast<const StringRep*>(heap_.get());
}
std::string_view Value::error_message() const {
  assert(kind_ == Kind::kError);
  return *static_cast<const StringRep*>(heap_.get());
}
std::string_view Value::unknown_path() const {
  assert(kind_ == Kind::kUnknown);
  return *static_cast<const StringRep*>(heap_.get());
}
const OpaqueValue& Value::opaque_value() const {
  assert(kind_ == Kind::kOpaque);
  return *static_cast<const OpaqueValue*>(heap_.get());
}
const ListValue& Value::list_value() const {
  assert(kind_ == Kind::kList);
  return *static_cast<const ListValue*>(heap_.get());
}
const MapValue& Value::map_value() const {
  assert(kind_ == Kind::kMap);
  return *static_cast<const MapValue*>(heap_.get());
}

Value Value::TypeOf() const {
  if (kind_ == Kind::kError || kind_ == Kind::kUnknown) return *this;
  if (kind_ == Kind::kOpaque) return Type(std::string(opaque_value().type_name()));
  return Type(std::string(KindName(kind_)));
}

const Value* MapValue::FindString(std::string_view key) const {
  if (!string_index_.empty()) {
    size_t mask = string_index_.size() - 1;
    size_t slot = HashString(key) & mask;
    while (uint32_t idx = string_index_[slot]) {
      const auto& entry = entries_[idx - 1];
      if (entry.first.string_value() == key) return &entry.second;
      slot = (slot + 1) & mask;
    }
    // Entries added after the last rebuild are indexed incrementally, so a miss is final.
    return nullptr;
  }
  for (const auto& [k, v] : entries_) {
    if (k.kind() == Kind::kString && k.string_value() == key) return &v;
  }
  return nullptr;
}

const Value* MapValue::Find(const Value& key) const {
  switch (key.kind()) {
    case Kind::kString: return FindString(key.string_value());
    case Kind::kBool:
      for (const auto& [k, v] : entries_) {
        if (k.kind() == Kind::kBool && k.bool_value() == key.bool_value()) return &v;
      }
      return nullptr;
    case Kind::kInt:
    case Kind::kUint:
    case Kind::kDouble:
      for (const auto& [k, v] : entries_) {
        if ((k.kind() == Kind::kInt || k.kind() == Kind::kUint) && internal::NumericEqual(k, key)) return &v;
      }
      return nullptr;
    default: return nullptr;
  }
}

bool ValuesEqual(const Value& a, const Value& b) {
  Kind ka = a.kind(), kb = b.kind();
  if (internal::IsNumeric(ka) && internal::IsNumeric(kb)) return internal::NumericEqual(a, b);
  if (ka != kb) return false;
  switch (ka) {
    case Kind::kNull: return true;
    case Kind::kBool: return a.bool_value() == b.bool_value();
    case Kind::kString:
    case Kind::kBytes: return a.string_value() == b.string_value();
    case Kind::kType: return a.type_name() == b.type_name();
    case Kind::kOpaque:
      return a.opaque_value().type_name() == b.opaque_value().type_name() &&
             a.opaque_value().Equals(b.opaque_value());
    case Kind::kTimestamp: return a.timestamp_value() == b.timestamp_value();
    case Kind::kDuration: return a.duration_value() == b.duration_value();
    case Kind::kList: {
      const auto& la = a.list_value();
      const auto& lb = b.list_value();
      if (la.size() != lb.size()) return false;
      for (size_t i = 0; i < la.size(); ++i) {
        if (!ValuesEqual(la[i], lb[i])) return false;
      }
      return true;
    }
    case Kind::kMap: {
      const auto& ma = a.map_value();
      const auto& mb = b.map_value();
      if (ma.size() != mb.size()) return false;
      for (const auto& [k, v] : ma.entries()) {
        const Value* other = mb.Find(k);
        if (other == nullptr || !ValuesEqual(v, *other)) return false;
      }
      return true;
    }
    default: return false;
  }
}

namespace {
// Equality with errors inside lists/maps propagating (CEL compares element-wise with errors).
Value EqualsDeep(const Value& a, const Value& b) {
  if (a.is_exceptional()) return a;
  if (b.is_exceptional()) return b;
  return Value::Bool(ValuesEqual(a, b));
}
}  // namespace

Value Equals(const Value& a, const Value& b) { return EqualsDeep(a, b); }

std::optional<int> Compare(const Value& a, const Value& b) {
  Kind ka = a.kind(), kb = b.kind();
  if (internal::IsNumeric(ka) && internal::IsNumeric(kb)) return internal::NumericCompare(a, b);
  if (ka != kb) return std::nullopt;
  auto cmp = [](const auto& x, const auto& y) { return x < y ? -1 : (y < x ? 1 : 0); };
  switch (ka) {
    case Kind::kBool: return cmp(a.bool_value(), b.bool_value());
    case Kind::kString:
    case Kind::kBytes: {
      int c = a.string_value().compare(b.string_value());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Kind::kTimestamp: return cmp(a.timestamp_value(), b.timestamp_value());
    case Kind::kDuration: return cmp(a.duration_value(), b.duration_value());
    default: return std::nullopt;
  }
}

std::string Value::DebugString() const {
  switch (kind_) {
    case Kind::kNull: return "null";
    case Kind::kBool: return scalar_.b ? "true" : "false";
    case Kind::kInt: return std::to_string(scalar_.i);
    case Kind::kUint: return std::to_string(scalar_.u) + "u";
    case Kind::kDouble: return internal::FormatDouble(scalar_.d);
    case Kind::kString: return internal::QuoteString(string_value());
    case Kind::kBytes: return "b" + internal::QuoteString(string_value());
    case Kind::kList: {
      std::string out = "[";
      bool first = true;
      for (const auto& v : list_value()) {
        if (!first) out += ", ";
        first = false;
        out += v.DebugString();
      }
      return out + "]";
    }
    case Kind::kMap: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : map_value().entries()) {
        if (!first) out += ", ";
        first = false;
        out += k.DebugString() + ": " + v.DebugString();
      }
      return out + "}";
    }
    case Kind::kTimestamp: return "timestamp(\"" + FormatTimestamp(timestamp_value()) + "\")";
    case Kind::kDuration: return "duration(\"" + FormatDuration(duration_value()) + "\")";
    case Kind::kType: return std::string(type_name());
    case Kind::kOpaque: return opaque_value().DebugString();
    case Kind::kError: return "error(" + internal::QuoteString(error_message()) + ")";
    case Kind::kUnknown: return "unknown(" + std::string(unknown_path()) + ")";
  }
  return "?";
}

namespace {
Value FromJsonDepth(const nlohmann::json& json, int depth) {
  if (depth > 512) return Value::Error("JSON nested deeper than 512 levels");
  switch (json.type()) {
    case nlohmann::json::value_t::null: return Value::Null();
    case nlohmann::json::value_t::boolean: return Value::Bool(json.get<bool>());
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return Value::Double(json.get<double>());
    case nlohmann::json::value_t::string: return Value::String(json.get<std::string>());
    case nlohmann::json::value_t::array: {
      ListValue items;
      items.reserve(json.size());
      for (const auto& item : json) {
        Value v = FromJsonDepth(item, depth + 1);
        if (v.is_error()) return v;
        items.push_back(std::move(v));
      }
      return Value::List(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      std::vector<std::pair<Value, Value>> entries;
      entries.reserve(json.size());
      for (auto it = json.begin(); it != json.end(); ++it) {
        Value v = FromJsonDepth(it.value(), depth + 1);
        if (v.is_error()) return v;
        entries.emplace_back(Value::String(it.key()), std::move(v));
      }
      return Value::Map(std::move(entries));
    }
    case nlohmann::json::value_t::binary: return Value::Error("binary JSON values are not supported");
    case nlohmann::json::value_t::discarded: return Value::Error("discarded JSON value");
  }
  return Value::Null();
}

std::string KeyString(const Value& key) {
  switch (key.kind()) {
    case Kind::kString: return std::string(key.string_value());
    case Kind::kBool: return key.bool_value() ? "true" : "false";
    case Kind::kInt: return std::to_string(key.int_value());
    case Kind::kUint: return std::to_string(key.uint_value());
    default: return key.DebugString();
  }
}
}  // namespace

Value FromJson(const nlohmann::json& json) { return FromJsonDepth(json, 0); }

nlohmann::json ToJson(const Value& value) {
  switch (value.kind()) {
    case Kind::kNull: return nullptr;
    case Kind::kBool: return value.bool_value();
    case Kind::kInt: return value.int_value();
    case Kind::kUint: return value.uint_value();
    case Kind::kDouble: {
      double d = value.double_value();
      if (std::isnan(d)) return "NaN";
      if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
      return d;
    }
    case Kind::kString: return std::string(value.string_value());
    case Kind::kBytes: return internal::Base64Encode(value.string_value());
    case Kind::kList: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& v : value.list_value()) out.push_back(ToJson(v));
      return out;
    }
    case Kind::kMap: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& [k, v] : value.map_value().entries()) out[KeyString(k)] = ToJson(v);
      return out;
    }
    case Kind::kTimestamp: return FormatTimestamp(value.timestamp_value());
    case Kind::kDuration: return FormatDuration(value.duration_value());
    case Kind::kType: return std::string(value.type_name());
    case Kind::kOpaque: return value.opaque_value().DebugString();
    case Kind::kError: return nlohmann::json{{"error", std::string(value.error_message())}};
    case Kind::kUnknown: return nlohmann::json{{"unknown", std::string(value.unknown_path())}};
  }
  return nullptr;
}

std::string FormatTimestamp(Timestamp t) { return internal::FormatTimestamp(t); }
std::string FormatDuration(Duration d) { return internal::FormatDuration(d); }

}  // namespace warden::cel
