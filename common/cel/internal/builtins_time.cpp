// Timestamp and duration accessors (with time zones) and now().
#include "common/cel/internal/builtins.h"
#include "common/cel/internal/time_util.h"

namespace warden::cel::internal {
namespace {

using Args = std::span<const Value>;

enum class Field { kFullYear, kMonth, kDate, kDayOfMonth, kDayOfWeek, kDayOfYear, kHours, kMinutes, kSeconds, kMillis };

template <Field F>
Value Accessor(Args a, EvalContext&, const Expr&) {
  const Value& v = a[0];
  if (v.kind() == Kind::kDuration && a.size() == 1) {
    Duration d = v.duration_value();
    switch (F) {
      case Field::kHours: return Value::Int(d.seconds / 3600);
      case Field::kMinutes: return Value::Int(d.seconds / 60);
      case Field::kSeconds: return Value::Int(d.seconds);
      case Field::kMillis: return Value::Int(d.nanos / 1'000'000);  // the millisecond part, as the spec tests
      default: return NoOverload("duration accessor", a);
    }
  }
  if (v.kind() != Kind::kTimestamp) return NoOverload("timestamp accessor", a);
  std::string_view zone = "UTC";
  if (a.size() == 2) {
    if (a[1].kind() != Kind::kString) return NoOverload("timestamp accessor", a);
    zone = a[1].string_value();
  }
  auto c = ToCivil(v.timestamp_value(), zone);
  if (!c) return Err("unknown time zone '" + std::string(zone) + "'");
  switch (F) {
    case Field::kFullYear: return Value::Int(c->year);
    case Field::kMonth: return Value::Int(c->month - 1);
    case Field::kDate: return Value::Int(c->day);
    case Field::kDayOfMonth: return Value::Int(c->day - 1);
    case Field::kDayOfWeek: return Value::Int(c->day_of_week);
    case Field::kDayOfYear: return Value::Int(c->day_of_year);
    case Field::kHours: return Value::Int(c->hour);
    case Field::kMinutes: return Value::Int(c->minute);
    case Field::kSeconds: return Value::Int(c->second);
    case Field::kMillis: return Value::Int(c->nanos / 1'000'000);
  }
  return Value::Null();
}

Value Now(Args, EvalContext& ctx, const Expr&) { return Value::TimestampOf(ctx.activation->now()); }

// Cerbos: ts.timeSince() is now() - ts.
Value TimeSince(Args a, EvalContext& ctx, const Expr&) {
  if (a[0].kind() != Kind::kTimestamp) return NoOverload("timeSince", a);
  Timestamp now = ctx.activation->now();
  Timestamp t = a[0].timestamp_value();
  Duration d;
  if (!NormalizeDuration(TotalNanos(now.seconds, now.nanos) - TotalNanos(t.seconds, t.nanos), d)) {
    return Err("duration out of range");
  }
  return Value::DurationOf(d);
}

}  // namespace

void RegisterTimeBuiltins(std::vector<Builtin>& out) {
  out.push_back({"getFullYear", false, true, 1, 2, Accessor<Field::kFullYear>});
  out.push_back({"getMonth", false, true, 1, 2, Accessor<Field::kMonth>});
  out.push_back({"getDate", false, true, 1, 2, Accessor<Field::kDate>});
  out.push_back({"getDayOfMonth", false, true, 1, 2, Accessor<Field::kDayOfMonth>});
  out.push_back({"getDayOfWeek", false, true, 1, 2, Accessor<Field::kDayOfWeek>});
  out.push_back({"getDayOfYear", false, true, 1, 2, Accessor<Field::kDayOfYear>});
  out.push_back({"getHours", false, true, 1, 2, Accessor<Field::kHours>});
  out.push_back({"getMinutes", false, true, 1, 2, Accessor<Field::kMinutes>});
  out.push_back({"getSeconds", false, true, 1, 2, Accessor<Field::kSeconds>});
  out.push_back({"getMilliseconds", false, true, 1, 2, Accessor<Field::kMillis>});
  Builtin now{"now", true, false, 0, 0, Now};
  now.pure = false;
  out.push_back(now);
  Builtin since{"timeSince", false, true, 1, 1, TimeSince};
  since.pure = false;
  out.push_back(since);
}

}  // namespace warden::cel::internal
