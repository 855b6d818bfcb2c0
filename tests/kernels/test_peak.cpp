// The arithmetic peak probe: every variant counts the operations it runs (2 per multiply-accumulate, lanes x 16
// chains per round), folds its accumulators so the loop cannot be dropped, and the wider units beat the scalar
// loop they stand beside.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "kernels/isa.h"
#include "kernels/peak.h"
#include "kernels/thread_pool.h"

using namespace prima::kernels;

TEST(Peak, EveryVariantCountsItsOperations) {
  struct Case {
    detail::PeakFn fn;
    double ops_per_round;
    Isa isa;
  };
  const Case cases[] = {
      {detail::peak_f32_scalar, 2.0 * 16, Isa::scalar},     {detail::peak_int8_scalar, 2.0 * 16, Isa::scalar},
      {detail::peak_f32_avx2(), 2.0 * 8 * 16, Isa::avx2},   {detail::peak_int8_avx2(), 2.0 * 32 * 16, Isa::avx2},
      {detail::peak_int8_avxvnni(), 2.0 * 32 * 16, Isa::avx_vnni},
      {detail::peak_f32_avx512(), 2.0 * 16 * 16, Isa::avx512}, {detail::peak_int8_avx512(), 2.0 * 64 * 16, Isa::avx512},
      {detail::peak_int8_amx(), 2.0 * 4 * 16 * 16 * 64, Isa::amx},
      {detail::peak_f32_neon(), 2.0 * 4 * 16, Isa::neon},   {detail::peak_int8_neon(), 2.0 * 16 * 16, Isa::neon},
      {detail::peak_int8_neon_dotprod(), 2.0 * 16 * 16, Isa::neon_dotprod},
  };
  int ran = 0;
  for (const Case& c : cases) {
    if (!c.fn || !isa_available(c.isa)) continue;
    const detail::PeakRun r = c.fn(1000);
    EXPECT_DOUBLE_EQ(r.ops, c.ops_per_round * 1000);
    ++ran;
  }
  EXPECT_GE(ran, 2);
}

TEST(Peak, MeasuresPositiveRatesAndSimdBeatsScalar) {
  ThreadPool pool(1);
  const Isa saved = active_isa();
  auto measure = [&](Isa isa) {
    set_isa(isa);
    const PeakRates r = measure_peak(pool, 0.1);
    set_isa(saved);
    return r;
  };
  auto keep_best = [](PeakRates& best, const PeakRates& r) {
    best.f32_gflops = std::max(best.f32_gflops, r.f32_gflops);
    best.int8_gops = std::max(best.int8_gops, r.int8_gops);
    best.int8_tile_gops = std::max(best.int8_tile_gops, r.int8_tile_gops);
  };
  PeakRates scalar, simd;
  keep_best(scalar, measure(Isa::scalar));
  EXPECT_GT(scalar.f32_gflops, 0.0);
  EXPECT_GT(scalar.int8_gops, 0.0);
  if (saved == Isa::scalar) return;
  // The cross build runs its tests under qemu, which emulates vector instructions slower than scalar ones.
  if (std::getenv("PRIMA_UNDER_EMULATION")) GTEST_SKIP() << "speed under an emulator says nothing about the CPU";
  // The best of three turns each, scalar and vector in turns: one turn slowed by other tests does not decide
  // (with ctest -j8 on 2 cores a single turn once put the vector units under 1.5x the scalar loop).
  for (int turn = 0; turn < 3; ++turn) {
    if (turn > 0) keep_best(scalar, measure(Isa::scalar));
    keep_best(simd, measure(saved));
  }
  // 8 or 16 lanes per instruction against one: well above the scalar loop.
  EXPECT_GT(simd.f32_gflops, 1.5 * scalar.f32_gflops);
  EXPECT_GT(simd.int8_gops, 1.5 * scalar.int8_gops);
  // The AMX tile unit (16384 products per instruction against a zmm's 64) is measured only where kernels use it.
  if (saved == Isa::amx) {
    EXPECT_GT(simd.int8_tile_gops, 1.5 * simd.int8_gops);
  } else {
    EXPECT_EQ(simd.int8_tile_gops, 0.0);
  }
}
