// Value: one CEL value, as the evaluator produces and consumes it.
//
// A Value is null, bool, int (int64), uint (uint64), double, string, bytes, list, map, timestamp,
// duration, type, error or unknown. Scalars live inline; strings, bytes, lists, maps, errors and
// unknowns live in immutable shared storage, so copying a Value never copies its contents (it
// costs at most one reference-count increment) and a Value may be shared across threads.
//
// Errors are values: CEL propagates an error through the expression until an operator that may
// absorb it (`&&`, `||`, `?:`) decides without it. Unknown values appear only under partial
// evaluation and name the attribute path that was not known.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace warden::cel {

enum class Kind : uint8_t {
  kNull,
  kBool,
  kInt,
  kUint,
  kDouble,
  kString,
  kBytes,
  kList,
  kMap,
  kTimestamp,
  kDuration,
  kType,
  kOpaque,  // an extension type: optional, net.IP, net.CIDR, hierarchy (see OpaqueValue)
  kError,
  kUnknown,
};

// The CEL type name of a kind: "int", "google.protobuf.Timestamp", "null_type", ...
std::string_view KindName(Kind kind);

// A point in time: seconds since the Unix epoch plus 0..999'999'999 nanoseconds.
// CEL's range is 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
struct Timestamp {
  int64_t seconds = 0;
  int32_t nanos = 0;
  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

// A signed span of time. seconds and nanos have the same sign (or are zero); CEL's range is
// about +-10'000 years (+-315'576'000'000 seconds).
struct Duration {
  int64_t seconds = 0;
  int32_t nanos = 0;
  friend auto operator<=>(const Duration&, const Duration&) = default;
};

class Value;
class MapValue;

// The payload of an extension value (Kind::kOpaque): immutable and shared like a list.
class OpaqueValue {
 public:
  virtual ~OpaqueValue() = default;
  // The CEL type name, e.g. "optional_type", "net.IP", "hierarchy".
  virtual std::string_view type_name() const = 0;
  // REQUIRES: other.type_name() == type_name().
  virtual bool Equals(const OpaqueValue& other) const = 0;
  virtual std::string DebugString() const = 0;
};
using ListValue = std::vector<Value>;

class Value {
 public:
  Value() = default;  // null

  static Value Null() { return Value(); }
  static Value Bool(bool v);
  static Value Int(int64_t v);
  static Value Uint(uint64_t v);
  static Value Double(double v);
  static Value String(std::string v);
  static Value Bytes(std::string v);
  static Value List(ListValue items);
  // Keys must be bool, int, uint or string and pairwise distinct under CEL equality (1 and 1u are
  // the same key); otherwise the result is an error Value naming the offending key.
  static Value Map(std::vector<std::pair<Value, Value>> entries);
  // Returns an error Value when outside CEL's range.
  static Value TimestampOf(Timestamp t);
  static Value DurationOf(Duration d);
  // A type value, e.g. Type("int") or Type("google.protobuf.Timestamp").
  static Value Type(std::string name);
  static Value Opaque(std::shared_ptr<const OpaqueValue> value);
  static Value Error(std::string message);
  // An unknown value standing for the attribute at `path` (e.g. "request.resource.attr.owner").
  static Value Unknown(std::string path);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_error() const { return kind_ == Kind::kError; }
  bool is_unknown() const { return kind_ == Kind::kUnknown; }
  // True for error and unknown: the values that propagate instead of being operated on.
  bool is_exceptional() const { return kind_ >= Kind::kError; }

  // Accessors. REQUIRES: kind() is the matching kind (checked by assert in debug builds).
  bool bool_value() const { return scalar_.b; }
  int64_t int_value() const { return scalar_.i; }
  uint64_t uint_value() const { return scalar_.u; }
  double double_value() const { return scalar_.d; }
  std::string_view string_value() const;  // string and bytes
  const ListValue& list_value() const;
  const MapValue& map_value() const;
  Timestamp timestamp_value() const { return {scalar_.t.seconds, scalar_.t.nanos}; }
  Duration duration_value() const { return {scalar_.t.seconds, scalar_.t.nanos}; }
  std::string_view type_name() const;      // kind() == kType
  const OpaqueValue& opaque_value() const;  // kind() == kOpaque
  std::string_view error_message() const;  // kind() == kError
  std::string_view unknown_path() const;   // kind() == kUnknown

  // The type value of this value: Type("int") for an int, Type("list") for a list, ...
  Value TypeOf() const;

  // A readable rendering for messages and tests: 1, 2u, 1.5, "s", b"..", [1, 2], {"a": 1},
  // timestamp("..."), duration("..s"), int, error("..."), unknown(path).
  std::string DebugString() const;

 private:
  struct Heap;
  Kind kind_ = Kind::kNull;
  union Scalar {
    bool b;
    int64_t i;
    uint64_t u;
    double d;
    struct {
      int64_t seconds;
      int32_t nanos;
    } t;
  } scalar_{.i = 0};
  std::shared_ptr<const void> heap_;

  friend class MapValue;
};

// An immutable map. Iteration follows insertion order.
class MapValue {
 public:
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }
  // The value under `key` by CEL key equality (numeric keys match across int/uint/double when
  // numerically equal), or nullptr. Never allocates.
  const Value* Find(const Value& key) const;
  // The value under the string key `key`, or nullptr. Never allocates.
  const Value* FindString(std::string_view key) const;

 private:
  friend class Value;
  std::vector<std::pair<Value, Value>> entries_;
  // For maps with many string keys: open-addressed index into entries_ (empty when small).
  std::vector<uint32_t> string_index_;
};

// CEL equality (`==`): heterogeneous numeric equality (1 == 1u == 1.0), structural for lists and
// maps, false across unrelated kinds, NaN unequal to itself. Error/unknown operands propagate:
// the result is then that operand, otherwise Bool.
Value Equals(const Value& a, const Value& b);
// Plain boolean form of Equals for two non-exceptional values.
bool ValuesEqual(const Value& a, const Value& b);

// CEL ordering (`<`, `<=`, ...): -1, 0 or 1 for comparable values (numbers across int/uint/double,
// strings, bytes, bools, timestamps, durations). nullopt when the kinds are not comparable or a
// NaN is involved (the caller turns that into "no such overload" or false as CEL requires).
std::optional<int> Compare(const Value& a, const Value& b);

// Converts a JSON document to a Value the way Cerbos sees request attributes (as
// google.protobuf.Value): every number becomes a double, objects become maps with string keys,
// arrays lists, null null. Nesting deeper than 512 levels yields an error Value.
Value FromJson(const nlohmann::json& json);

// Converts a Value to JSON for outputs: ints/uints/doubles as numbers (NaN/Inf as strings
// "NaN"/"Infinity"/"-Infinity"), bytes as base64, timestamps as RFC 3339, durations as "1.5s",
// types as their name, maps with their keys rendered as strings, extension values (optional,
// net.IP, hierarchy) as their text form, errors as {"error": message},
// unknowns as {"unknown": path}.
nlohmann::json ToJson(const Value& value);

// RFC 3339 / protobuf-JSON renderings used by string(), ToJson and DebugString.
std::string FormatTimestamp(Timestamp t);
std::string FormatDuration(Duration d);

}  // namespace warden::cel
