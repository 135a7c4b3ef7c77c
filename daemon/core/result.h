#pragma once
// Errors by kind (docs/CONVENTIONS.md §4): the running loops never throw; they return a Status or
// Result whose kind tells the caller what to do next.

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace sfkb::core {

enum class ErrorKind {
  kRetry,         // transient: network, 5xx, busy, queue full -> back off and try again
  kReauth,        // the credentials were rejected (401) -> get a new token, then retry
  kRehandshake,   // the CometD session is gone (403::Unknown client) -> handshake again
  kInvalidInput,  // a malformed message/record: report, count, route; never retry as is
  kFatal,         // cannot go on: stop the pipeline gracefully, let the supervisor restart
  kStopped,       // the stop token fired while waiting
};

const char* to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kFatal;
  std::string message;
};

class Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT: implicit on purpose
  static Status ok() { return {}; }
  bool is_ok() const { return !error_.has_value(); }
  explicit operator bool() const { return is_ok(); }
  const Error& error() const { return *error_; }
  ErrorKind kind() const { return error_->kind; }
  const std::string& message() const { return error_->message; }

 private:
  std::optional<Error> error_;
};

template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}      // NOLINT: implicit on purpose
  Result(Error error) : value_(std::move(error)) {}  // NOLINT: implicit on purpose
  bool is_ok() const { return std::holds_alternative<T>(value_); }
  explicit operator bool() const { return is_ok(); }
  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T* operator->() { return &std::get<T>(value_); }
  const T* operator->() const { return &std::get<T>(value_); }
  T& operator*() & { return std::get<T>(value_); }
  const T& operator*() const& { return std::get<T>(value_); }
  const Error& error() const { return std::get<Error>(value_); }
  Status status() const { return is_ok() ? Status::ok() : Status(error()); }

 private:
  std::variant<T, Error> value_;
};

inline Error retry_error(std::string message) {
  return {ErrorKind::kRetry, std::move(message)};
}
inline Error fatal_error(std::string message) {
  return {ErrorKind::kFatal, std::move(message)};
}

}  // namespace sfkb::core
