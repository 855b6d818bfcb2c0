// Peak probe loops, AVX2: 16 ymm chains of FMA (8 f32 lanes) or of vpmaddubsw (32 u8×s8 products, summed in
// pairs: the multiply unit's rate, as vpdpbusd's is for VNNI). Widening the i16 sums to i32 is work the kernels
// do on top (they add 2-4 vpmaddubsw results in 16 bits before one vpmaddwd). Until 2026-11-22 the probe ran
// vpmaddubsw + vpmaddwd + vpaddd, half this rate on a Sapphire Rapids core (160.7 against 331.8 GOP/s, 1 thread),
// which the kernels' cheaper sequences then approached at 91-93 %: a ceiling of the probe's making, not of the units.
#include "kernels/peak.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

namespace prima::kernels::detail {
namespace {

PeakRun f32(uint64_t iters) {
  volatile float seed = 1.0f;
  __m256 a[16];
  for (int k = 0; k < 16; ++k) a[k] = _mm256_set1_ps(seed * static_cast<float>(k));
  const __m256 m = _mm256_set1_ps(seed * 0.999f), c = _mm256_set1_ps(seed * 0.001f);
  for (uint64_t i = 0; i < iters; ++i)
    for (int k = 0; k < 16; ++k) a[k] = _mm256_fmadd_ps(a[k], m, c);
  for (int k = 1; k < 16; ++k) a[0] = _mm256_add_ps(a[0], a[k]);
  float out[8];
  _mm256_storeu_ps(out, a[0]);
  return {2.0 * 8 * 16 * static_cast<double>(iters), static_cast<uint64_t>(out[0])};
}

PeakRun int8(uint64_t iters) {
  volatile int seed = 3;
  __m256i a[16];
  for (auto& x : a) x = _mm256_setzero_si256();
  for (int k = 0; k < 16; ++k) a[k] = _mm256_set1_epi32(seed + k);
  const __m256i s = _mm256_set1_epi8(static_cast<char>(-seed));
  // The chain's own bytes are the unsigned operand, so the products cannot be hoisted out of the loop.
  for (uint64_t i = 0; i < iters; ++i)
    for (int k = 0; k < 16; ++k) a[k] = _mm256_maddubs_epi16(a[k], s);
  for (int k = 1; k < 16; ++k) a[0] = _mm256_add_epi32(a[0], a[k]);
  return {2.0 * 32 * 16 * static_cast<double>(iters), static_cast<uint64_t>(_mm256_extract_epi32(a[0], 0))};
}

}  // namespace

PeakFn peak_f32_avx2() { return f32; }
PeakFn peak_int8_avx2() { return int8; }

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
PeakFn peak_f32_avx2() { return nullptr; }
PeakFn peak_int8_avx2() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
