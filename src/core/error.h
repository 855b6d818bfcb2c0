// Errors. Two kinds, as the design asks:
//  - at load / at the edge (GGUF, CLI, config): throw prima::Error with context (file, tensor, field);
//  - at run time (network, per-token work): return a Status the caller must look at.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace prima {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws prima::Error with a fmt-formatted message.
template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw Error(fmt::format(f, std::forward<Args>(args)...));
}

// Checks an input condition at the edge; throws prima::Error with the message when it does not hold.
#define PRIMA_CHECK(cond, ...)           \
  do {                                   \
    if (!(cond)) ::prima::fail(__VA_ARGS__); \
  } while (0)

// Internal invariant (a bug if it fails, never bad input): aborts with file and line.
[[noreturn]] void assert_fail(const char* expr, const char* file, int line);
#define PRIMA_ASSERT(cond) \
  do {                     \
    if (!(cond)) ::prima::assert_fail(#cond, __FILE__, __LINE__); \
  } while (0)

class [[nodiscard]] Status {
 public:
  enum class Code { ok, invalid, io, timeout, closed, protocol, mismatch, cancelled, internal };

  Status() = default;
  static Status ok() { return {}; }
  static Status error(Code code, std::string msg) { return Status(code, std::move(msg)); }
  template <class... Args>
  static Status error(Code code, fmt::format_string<Args...> f, Args&&... args) {
    return Status(code, fmt::format(f, std::forward<Args>(args)...));
  }

  bool is_ok() const { return code_ == Code::ok; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return msg_; }

 private:
  Status(Code code, std::string msg) : code_(code), msg_(std::move(msg)) {}
  Code code_ = Code::ok;
  std::string msg_;
};

const char* to_string(Status::Code code);

// A value or the Status that says why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) { PRIMA_ASSERT(!std::get<Status>(v_).is_ok()); }  // NOLINT

  bool is_ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return is_ok(); }
  const Status& status() const {
    static const Status ok_status;
    return is_ok() ? ok_status : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace prima
