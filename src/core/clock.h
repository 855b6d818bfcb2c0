// Monotonic clocks and a stopwatch for the per-token accounting.
#pragma once

#include <chrono>
#include <cstdint>

namespace prima {

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
inline int64_t now_us() { return now_ns() / 1000; }
inline double now_s() { return static_cast<double>(now_ns()) * 1e-9; }

class Stopwatch {
 public:
  Stopwatch() : t0_(now_ns()) {}
  void reset() { t0_ = now_ns(); }
  int64_t elapsed_ns() const { return now_ns() - t0_; }
  double elapsed_ms() const { return static_cast<double>(elapsed_ns()) * 1e-6; }
  double elapsed_s() const { return static_cast<double>(elapsed_ns()) * 1e-9; }

 private:
  int64_t t0_;
};

}  // namespace prima
