// Read kernel of the bandwidth probe with 32-byte loads into 8 independent accumulators.
#include "kernels/bandwidth.h"

#if defined(__AVX2__)

#include <immintrin.h>

namespace prima::kernels::detail {
namespace {

uint64_t read_wide(const void* p, size_t bytes) {
  const auto* v = static_cast<const __m256i*>(p);
  __m256i a[8];
  for (auto& x : a) x = _mm256_setzero_si256();
  for (size_t i = 0; i < bytes / 32; i += 8)
    for (int k = 0; k < 8; ++k) a[k] = _mm256_xor_si256(a[k], _mm256_load_si256(v + i + k));
  for (int k = 1; k < 8; ++k) a[0] = _mm256_xor_si256(a[0], a[k]);
  return static_cast<uint64_t>(_mm256_extract_epi64(a[0], 0) ^ _mm256_extract_epi64(a[0], 1));
}

}  // namespace

ReadFn read_avx2() { return read_wide; }

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
ReadFn read_avx2() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
