// Status and Result<T>: how infrastructure failures (files, disks, sockets)
// are reported. Business outcomes are never a Status (they are values such as
// RejectReason); a Status means "the operation did not happen as asked".
//
// Both types are [[nodiscard]]: ignoring a failed write or fsync is exactly
// the bug that loses acknowledged data, so the compiler refuses to let it
// happen silently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace stox {

class [[nodiscard]] Status {
 public:
  enum class Code : std::uint8_t {
    kOk = 0,
    kNotFound = 1,
    kCorruption = 2,
    kInvalidArgument = 3,
    kIOError = 4,
  };

  Status() = default;  // OK

  static Status OK() { return {}; }
  static Status NotFound(std::string_view msg) { return {Code::kNotFound, msg, 0}; }
  static Status Corruption(std::string_view msg) { return {Code::kCorruption, msg, 0}; }
  static Status InvalidArgument(std::string_view msg) {
    return {Code::kInvalidArgument, msg, 0};
  }
  // errno_value is the errno of the failed system call (0 if none), so that
  // callers can tell ENOSPC from EIO without parsing the message.
  static Status IOError(std::string_view msg, int errno_value = 0) {
    return {Code::kIOError, msg, errno_value};
  }

  bool ok() const { return code_ == Code::kOk; }
  bool is_not_found() const { return code_ == Code::kNotFound; }
  bool is_corruption() const { return code_ == Code::kCorruption; }
  bool is_invalid_argument() const { return code_ == Code::kInvalidArgument; }
  bool is_io_error() const { return code_ == Code::kIOError; }
  Code code() const { return code_; }
  int error_number() const { return errno_; }
  const std::string& message() const { return msg_; }

  // "IO error: <message>", or "OK".
  std::string to_string() const {
    switch (code_) {
      case Code::kOk: return "OK";
      case Code::kNotFound: return "not found: " + msg_;
      case Code::kCorruption: return "corruption: " + msg_;
      case Code::kInvalidArgument: return "invalid argument: " + msg_;
      case Code::kIOError: return "IO error: " + msg_;
    }
    return msg_;
  }

  // Marks a Status as deliberately ignored (best-effort cleanup paths).
  void ignore_error() const {}

 private:
  Status(Code code, std::string_view msg, int errno_value)
      : code_(code), errno_(errno_value), msg_(msg) {}

  Code code_ = Code::kOk;
  int errno_ = 0;
  std::string msg_;
};

// A value or the Status saying why there is none.
// REQUIRES: value() only when ok().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT: REQUIRES !status.ok()

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace stox
