#include "kernels/peak.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "core/clock.h"
#include "kernels/isa.h"

namespace prima::kernels {
namespace detail {

// Scalar references: 16 independent chains of one lane each.
PeakRun peak_f32_scalar(uint64_t iters) {
  volatile float seed = 1.0f;
  float a[16];
  for (int k = 0; k < 16; ++k) a[k] = seed * static_cast<float>(k);
  const float m = seed * 0.999f, c = seed * 0.001f;
  for (uint64_t i = 0; i < iters; ++i)
    for (int k = 0; k < 16; ++k) a[k] = a[k] * m + c;
  float s = 0;
  for (float x : a) s += x;
  uint32_t bits;
  std::memcpy(&bits, &s, 4);
  return {2.0 * 16 * static_cast<double>(iters), bits};
}

PeakRun peak_int8_scalar(uint64_t iters) {
  volatile int seed = 3;
  int32_t a[16] = {};
  for (int k = 0; k < 16; ++k) a[k] = seed + k;
  const int32_t w = static_cast<int8_t>(-seed);
  for (uint64_t i = 0; i < iters; ++i)  // the accumulator's low byte is the unsigned operand: nothing to hoist
    for (int k = 0; k < 16; ++k) a[k] += (a[k] & 0xff) * w;
  int64_t s = 0;
  for (int32_t v : a) s += v;
  return {2.0 * 16 * static_cast<double>(iters), static_cast<uint64_t>(s)};
}

}  // namespace detail

namespace {

// Best rate of `fn` over the pool's threads within max_seconds (at least two runs), 1e9 ops/s.
double best_rate(ThreadPool& pool, detail::PeakFn fn, double max_seconds) {
  const Stopwatch total;
  std::atomic<uint64_t> sink{0};
  uint64_t iters = 1u << 14;
  double best = 0;
  for (int run = 0; run < 1000; ++run) {
    std::atomic<double> ops{0};
    const Stopwatch sw;
    pool.run([&](int, int) {
      const detail::PeakRun r = fn(iters);
      sink.fetch_xor(r.fold, std::memory_order_relaxed);
      double cur = ops.load();
      while (!ops.compare_exchange_weak(cur, cur + r.ops)) {
      }
    });
    const double s = sw.elapsed_s();
    if (s < 0.02) {  // too short to time: grow the loop
      iters *= 4;
      continue;
    }
    best = std::max(best, ops.load() / s * 1e-9);
    if (run >= 1 && total.elapsed_s() >= max_seconds) break;
  }
  return best;
}

}  // namespace

PeakRates measure_peak(ThreadPool& pool, double max_seconds) {
  detail::PeakFn f32 = detail::peak_f32_scalar, int8 = detail::peak_int8_scalar;
  detail::PeakFn tile = nullptr;
  if (active_isa() == Isa::amx && detail::peak_f32_avx512()) {
    f32 = detail::peak_f32_avx512();
    int8 = detail::peak_int8_avx512();
    tile = detail::peak_int8_amx();
  } else if (active_isa() == Isa::avx512 && detail::peak_f32_avx512()) {
    f32 = detail::peak_f32_avx512();
    int8 = detail::peak_int8_avx512();
  } else if (active_isa() == Isa::avx_vnni && detail::peak_int8_avxvnni()) {
    f32 = detail::peak_f32_avx2();
    int8 = detail::peak_int8_avxvnni();
  } else if ((active_isa() == Isa::avx512 || active_isa() == Isa::avx2) && detail::peak_f32_avx2()) {
    f32 = detail::peak_f32_avx2();
    int8 = detail::peak_int8_avx2();
  } else if (active_isa() == Isa::neon_dotprod && detail::peak_int8_neon_dotprod()) {
    f32 = detail::peak_f32_neon();
    int8 = detail::peak_int8_neon_dotprod();
  } else if (active_isa() == Isa::neon && detail::peak_f32_neon()) {
    f32 = detail::peak_f32_neon();
    int8 = detail::peak_int8_neon();
  }
  PeakRates r;
  const double share = max_seconds / (tile ? 3 : 2);
  r.f32_gflops = best_rate(pool, f32, share);
  r.int8_gops = best_rate(pool, int8, share);
  if (tile) r.int8_tile_gops = best_rate(pool, tile, share);
  return r;
}

}  // namespace prima::kernels
