// Peak probe loop, AVX-VNNI: 16 ymm chains of the VEX vpdpbusd (32 u8×s8 products), the instruction the avxvnni
// table's quantized kernels use. Its float peak is avx2's.
#include "kernels/peak.h"

#if defined(__AVX2__) && defined(__AVXVNNI__)
#include <immintrin.h>

namespace prima::kernels::detail {
namespace {

PeakRun int8(uint64_t iters) {
  volatile int seed = 3;
  __m256i a[16];
  for (int k = 0; k < 16; ++k) a[k] = _mm256_set1_epi32(seed + k);
  const __m256i s = _mm256_set1_epi8(static_cast<char>(-seed));
  // The accumulator's bytes are the unsigned operand: one dependent chain per accumulator, nothing to fold.
  for (uint64_t i = 0; i < iters; ++i)
    for (int k = 0; k < 16; ++k) a[k] = _mm256_dpbusd_avx_epi32(a[k], a[k], s);
  for (int k = 1; k < 16; ++k) a[0] = _mm256_add_epi32(a[0], a[k]);
  return {2.0 * 32 * 16 * static_cast<double>(iters), static_cast<uint64_t>(_mm256_extract_epi32(a[0], 0))};
}

}  // namespace

PeakFn peak_int8_avxvnni() { return int8; }

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
PeakFn peak_int8_avxvnni() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
