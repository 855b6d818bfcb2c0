#include "kernels/bandwidth.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "kernels/isa.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace prima::kernels {
namespace detail {

uint64_t read_scalar(const void* p, size_t bytes) {
#if defined(__SSE2__)
  // Baseline x86-64: 16-byte loads into 8 independent accumulators.
  const auto* v = static_cast<const __m128i*>(p);
  __m128i a[8];
  for (auto& x : a) x = _mm_setzero_si128();
  for (size_t i = 0; i < bytes / 16; i += 8)
    for (int k = 0; k < 8; ++k) a[k] = _mm_xor_si128(a[k], _mm_load_si128(v + i + k));
  for (int k = 1; k < 8; ++k) a[0] = _mm_xor_si128(a[0], a[k]);
  return static_cast<uint64_t>(_mm_cvtsi128_si64(a[0]));
#else
  const auto* v = static_cast<const uint64_t*>(p);
  uint64_t a[8] = {};
  for (size_t i = 0; i < bytes / 8; i += 8)
    for (int k = 0; k < 8; ++k) a[k] ^= v[i + k];
  return a[0] ^ a[1] ^ a[2] ^ a[3] ^ a[4] ^ a[5] ^ a[6] ^ a[7];
#endif
}

}  // namespace detail

ReadBandwidth measure_read_bandwidth(ThreadPool& pool, size_t bytes, double max_seconds) {
  const Stopwatch total;
  const int nth = pool.n_threads();
  const size_t slice = std::max<size_t>(bytes / nth / 4096 * 4096, 4096);
  const size_t size = slice * static_cast<size_t>(nth);
  std::unique_ptr<uint8_t, decltype(&std::free)> buf(static_cast<uint8_t*>(std::aligned_alloc(4096, size)), &std::free);
  PRIMA_CHECK(buf != nullptr, "measure_read_bandwidth: cannot allocate {} bytes", size);
  uint8_t* base = buf.get();
  pool.run([&](int ith, int) { std::memset(base + ith * slice, 0x5a + ith, slice); });

  detail::ReadFn read = detail::read_scalar;
  if (active_isa() == Isa::avx512 && detail::read_avx512()) {
    read = detail::read_avx512();
  } else if ((active_isa() == Isa::avx512 || active_isa() == Isa::avx2) && detail::read_avx2()) {
    read = detail::read_avx2();
  } else if ((active_isa() == Isa::neon || active_isa() == Isa::neon_dotprod) && detail::read_neon()) {
    read = detail::read_neon();
  }

  std::atomic<uint64_t> sink{0};
  std::vector<double> gbs;
  for (int pass = 0; pass < 1000; ++pass) {
    const Stopwatch sw;
    pool.run([&](int ith, int) { sink.fetch_xor(read(base + ith * slice, slice), std::memory_order_relaxed); });
    gbs.push_back(static_cast<double>(size) / sw.elapsed_s() * 1e-9);
    if (pass >= 2 && total.elapsed_s() >= max_seconds) break;
  }
  std::sort(gbs.begin(), gbs.end());
  const size_t n = gbs.size();
  return {n % 2 ? gbs[n / 2] : (gbs[n / 2 - 1] + gbs[n / 2]) / 2, gbs.back(), static_cast<int>(n)};
}

}  // namespace prima::kernels
