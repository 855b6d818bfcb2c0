// Peak probe loops, AVX-512: 16 zmm chains of FMA (16 f32 lanes) or VNNI vpdpbusd (64 u8×s8 products).
#include "kernels/peak.h"

#if defined(__AVX512F__) && defined(__AVX512VNNI__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

namespace prima::kernels::detail {
namespace {

PeakRun f32(uint64_t iters) {
  volatile float seed = 1.0f;
  __m512 a[16];
  for (int k = 0; k < 16; ++k) a[k] = _mm512_set1_ps(seed * static_cast<float>(k));
  const __m512 m = _mm512_set1_ps(seed * 0.999f), c = _mm512_set1_ps(seed * 0.001f);
  for (uint64_t i = 0; i < iters; ++i)
    for (int k = 0; k < 16; ++k) a[k] = _mm512_fmadd_ps(a[k], m, c);
  for (int k = 1; k < 16; ++k) a[0] = _mm512_add_ps(a[0], a[k]);
  return {2.0 * 16 * 16 * static_cast<double>(iters), static_cast<uint64_t>(_mm512_reduce_add_ps(a[0]))};
}

PeakRun int8(uint64_t iters) {
  volatile int seed = 3;
  __m512i a[16];
  for (auto& x : a) x = _mm512_setzero_si512();
  for (int k = 0; k < 16; ++k) a[k] = _mm512_set1_epi32(seed + k);
  const __m512i s = _mm512_set1_epi8(static_cast<char>(-seed));
  // The accumulator's bytes are the unsigned operand: one dependent chain per accumulator, nothing to fold.
  for (uint64_t i = 0; i < iters; ++i)
    for (int k = 0; k < 16; ++k) a[k] = _mm512_dpbusd_epi32(a[k], a[k], s);
  for (int k = 1; k < 16; ++k) a[0] = _mm512_add_epi32(a[0], a[k]);
  return {2.0 * 64 * 16 * static_cast<double>(iters), static_cast<uint64_t>(_mm512_reduce_add_epi32(a[0]))};
}

}  // namespace

PeakFn peak_f32_avx512() { return f32; }
PeakFn peak_int8_avx512() { return int8; }

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
PeakFn peak_f32_avx512() { return nullptr; }
PeakFn peak_int8_avx512() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
