// Error values: every operation that input or the environment can make fail
// returns an Error or an Expected<T> instead of throwing (see STYLE.md).
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace cr16 {

/// What went wrong, as a human-readable message plus an optional errno.
/// A default-constructed Error means "no error" (ok() is true).
///
/// One convention for Error and Expected<T>: ok() is true on success, and
/// Error has no conversion to bool, so a test reads the same way for both:
///   if (Error error = f(); !error.ok()) return error;
///   if (!result.ok()) return result.error();
class [[nodiscard]] Error {
 public:
  Error() = default;
  /// An error with a message; errno_value 0 means "not an OS error".
  explicit Error(std::string message, int errno_value = 0)
      : failed_(true), errno_(errno_value), message_(std::move(message)) {}

  /// An OS error: "<context>: <strerror(errno_value)>".
  static Error from_errno(const std::string& context, int errno_value);

  bool ok() const { return !failed_; }
  int errno_value() const { return errno_; }
  const std::string& message() const { return message_; }

  /// Returns a copy with "<context>: " prepended to the message.
  Error with_context(const std::string& context) const;

 private:
  bool failed_ = false;
  int errno_ = 0;
  std::string message_;
};

/// Either a value or an Error. Check ok() (also spelled has_value() or
/// operator bool, all true on success) before calling value(); error() is
/// valid only when there is no value.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : storage_(std::move(value)) {}      // NOLINT(implicit)
  Expected(Error error) : storage_(std::move(error)) {}  // NOLINT(implicit)

  bool ok() const { return storage_.index() == 0; }
  bool has_value() const { return ok(); }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(storage_); }
  const T& value() const& { return std::get<0>(storage_); }
  T&& value() && { return std::get<0>(std::move(storage_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(storage_); }
  /// The error, or an ok Error when there is a value.
  Error take_error() const { return has_value() ? Error() : error(); }

 private:
  std::variant<T, Error> storage_;
};

}  // namespace cr16
