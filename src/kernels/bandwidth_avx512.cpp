// Read kernel of the bandwidth probe with 64-byte loads into 8 independent accumulators.
#include "kernels/bandwidth.h"

#if defined(__AVX512F__)
// GCC 12 reports its own avx512fintrin.h helpers (`__Y = __Y` self-initialisation) as uninitialised.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

namespace prima::kernels::detail {
namespace {

uint64_t read_wide(const void* p, size_t bytes) {
  const auto* v = static_cast<const __m512i*>(p);
  __m512i a[8];
  for (auto& x : a) x = _mm512_setzero_si512();
  for (size_t i = 0; i < bytes / 64; i += 8)
    for (int k = 0; k < 8; ++k) a[k] = _mm512_xor_si512(a[k], _mm512_load_si512(v + i + k));
  for (int k = 1; k < 8; ++k) a[0] = _mm512_xor_si512(a[0], a[k]);
  return static_cast<uint64_t>(_mm512_reduce_add_epi64(a[0]));
}

}  // namespace

ReadFn read_avx512() { return read_wide; }

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
ReadFn read_avx512() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
