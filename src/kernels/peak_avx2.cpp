// Peak probe loops, AVX2: 16 ymm chains of FMA (8 f32 lanes) or vpmaddubsw + vpmaddwd + vpaddd (32 u8×s8
// products, the sequence our AVX2 quantized kernels use).
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
  const __m256i ones = _mm256_set1_epi16(1);
  // The accumulator's bytes are the unsigned operand, so the products cannot be hoisted out of the loop.
  for (uint64_t i = 0; i < iters; ++i)
    for (int k = 0; k < 16; ++k)
      a[k] = _mm256_add_epi32(a[k], _mm256_madd_epi16(_mm256_maddubs_epi16(a[k], s), ones));
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
