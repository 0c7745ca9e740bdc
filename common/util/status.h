// Status and Result<T>: how Warden reports expected failures.
//
// Bad input, a missing object or a policy that does not compile are not bugs, so they travel as
// values, never as exceptions thrown across layers. A Status is either ok or carries a code and a
// human-readable message that names the problem (the field, the file and line, the reason).
// Result<T> holds either a T or a non-ok Status.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace warden {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller's input is malformed or refers to something impossible
  kNotFound,            // a named thing does not exist
  kAlreadyExists,       // a create collided with an existing thing
  kFailedPrecondition,  // the system is not in a state where the operation can run
  kOutOfRange,          // a value or cursor is outside what is valid
  kResourceExhausted,   // a limit was hit (size, depth, cost, fan-out)
  kPermissionDenied,    // authenticated but not allowed
  kUnauthenticated,     // no valid credentials
  kUnavailable,         // try again later (revision not yet held, peer unreachable)
  kDeadlineExceeded,    // a time bound passed
  kStorageFull,         // the disk (or a quota) is full; nothing of the write was stored
  kInternal,            // a bug or corrupted state; never caused by input alone
};

// The stable lower_snake_case name of a code, used in JSON error bodies.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
  static Status StorageFull(std::string m) { return {StatusCode::kStorageFull, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid_argument: <message>", or "ok".
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>", keeping the code; for adding context
  // (a file name, an item index) as an error travels up.
  Status WithPrefix(std::string_view prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : storage_(std::move(value)) {}  // NOLINT: implicit by design, like absl::StatusOr
  Result(Status status) : storage_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(storage_).ok() && "Result needs a value or a non-ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(storage_); }
  // REQUIRES: !ok() for a meaningful status; an ok Result reports Status::Ok().
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(storage_); }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(storage_); }
  const T& value() const& { return std::get<T>(storage_); }
  T&& value() && { return std::get<T>(std::move(storage_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> storage_;
};

}  // namespace warden

// Propagates a non-ok Status from an expression returning Status.
#define WARDEN_RETURN_IF_ERROR(expr)            \
  do {                                          \
    ::warden::Status warden_status_ = (expr);   \
    if (!warden_status_.ok()) return warden_status_; \
  } while (0)
