// Arithmetic peak probe: what the multiply units of this CPU do per second when nothing else limits them, so that
// prefill (compute-bound) can be stated as a fraction of it (`prima bench`, issue 5).
//
//   PeakRates r = measure_peak(pool, 0.3);
//
// Every pool thread runs a loop of independent multiply-accumulates with no loads (16 accumulators per thread,
// more than latency × throughput of any core we target, so the units never wait on a dependency):
//   f32   FMA on the widest vector of active_isa(): 2 FLOP per lane (AVX-512: 16 lanes, AVX2: 8, NEON: 4,
//         scalar: 1)
//   int8  the 8-bit dot product our quantized kernels use: VNNI vpdpbusd (AVX-512: 64 u8×s8 products per
//         instruction), AVX2 vpmaddubsw + vpmaddwd + vpaddd (32 per three), NEON smull + smull2 + 2 sadalp
//         (16 per four), NEON with dotprod SDOT (16 per instruction); 2 ops per product. Scalar: 1 lane.
//   int8 tile  with the amx set, also the AMX tile unit: TDPBSSD (16384 products per tile product) on 4
//         accumulator tiles, the products the prefill of the K-quants runs there; 0 elsewhere.
// Returns the best of repeated runs over max_seconds, in 1e9 operations per second, summed over the threads.
#pragma once

#include <cstdint>

#include "kernels/thread_pool.h"

namespace prima::kernels {

struct PeakRates {
  double f32_gflops = 0;  // fused multiply-add, 2 FLOP each
  double int8_gops = 0;   // 8-bit products summed into 32 bits on the vector units, 2 ops each
  double int8_tile_gops = 0;  // the same on the AMX tile unit (active set amx), else 0
};

PeakRates measure_peak(ThreadPool& pool, double max_seconds);

namespace detail {
// Runs `iters` rounds of 16 independent multiply-accumulate chains; returns the operations done (2 per
// product) and a value folded from the accumulators (so the work stays).
struct PeakRun {
  double ops = 0;
  uint64_t fold = 0;
};
using PeakFn = PeakRun (*)(uint64_t iters);
PeakRun peak_f32_scalar(uint64_t iters);
PeakRun peak_int8_scalar(uint64_t iters);
PeakFn peak_f32_avx2();     // null when not compiled
PeakFn peak_int8_avx2();
PeakFn peak_int8_avxvnni();
PeakFn peak_f32_avx512();
PeakFn peak_int8_avx512();
PeakFn peak_int8_amx();     // call only where isa_available(Isa::amx): the process must hold the tile permission
PeakFn peak_f32_neon();
PeakFn peak_int8_neon();
PeakFn peak_int8_neon_dotprod();
}  // namespace detail

}  // namespace prima::kernels
