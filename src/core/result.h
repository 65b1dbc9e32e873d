// result.h - Result<T>: a value or an Error{code, message, file, line}, for expected failures.
// Used inside the library instead of exceptions; capi/ turns an Error into an avsink_status.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace avsink {

// Error classes, mapped one-to-one onto avsink_status by capi/. Never renumbered.
enum class ErrorCode {
  kInvalidArgument = 1,
  kNoMemory,
  kConfig,
  kRules,
  kIo,
  kTimeout,
  kEngine,
  kLimit,
  kState,
  kInternal,
};

// What went wrong, and where in an operator's file when a file is to blame (line 0 = no line).
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::string file;
  uint32_t line = 0;

  // "file:line: message", or just the message when no file is known.
  std::string describe() const {
    if (file.empty()) return message;
    if (line == 0) return file + ": " + message;
    return file + ":" + std::to_string(line) + ": " + message;
  }
};

inline Error make_error(ErrorCode code, std::string message, std::string file = {},
                        uint32_t line = 0) {
  return Error{code, std::move(message), std::move(file), line};
}

// Result<T> holds either a T or an Error. Copyable and movable when T is.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit on purpose

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T &value() & { return std::get<0>(v_); }
  const T &value() const & { return std::get<0>(v_); }
  T &&value() && { return std::get<0>(std::move(v_)); }
  T *operator->() { return &std::get<0>(v_); }
  const T *operator->() const { return &std::get<0>(v_); }
  T &operator*() & { return std::get<0>(v_); }
  const T &operator*() const & { return std::get<0>(v_); }
  const Error &error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit on purpose
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error &error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace avsink
