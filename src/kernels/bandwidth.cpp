#include "kernels/bandwidth.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include <sys/mman.h>

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

namespace {

constexpr size_t kHugePage = size_t{2} << 20;

detail::ReadFn read_for_active_isa() {
  const bool zmm = active_isa() == Isa::avx512 || active_isa() == Isa::amx;
  if (zmm && detail::read_avx512()) return detail::read_avx512();
  const bool ymm = active_isa() == Isa::avx2 || active_isa() == Isa::avx_vnni;
  if ((zmm || ymm) && detail::read_avx2()) return detail::read_avx2();
  const bool neon = active_isa() == Isa::neon || active_isa() == Isa::neon_dotprod;
  if (neon && detail::read_neon()) return detail::read_neon();
  return detail::read_scalar;
}

// Bytes per thread: slices of whole huge pages once they are large enough to hold some (a slice is one thread's
// stream).
size_t slice_bytes(size_t bytes, int nth) {
  const size_t unit = bytes / static_cast<size_t>(nth) >= 4 * kHugePage ? kHugePage : 4096;
  return std::max<size_t>(bytes / static_cast<size_t>(nth) / unit * unit, 4096);
}

}  // namespace

HugePageBuffer::HugePageBuffer(size_t bytes) : mapped_(bytes + kHugePage), bytes_(bytes) {
  void* m = ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  PRIMA_CHECK(m != MAP_FAILED, "cannot map {} bytes of memory", mapped_);
  map_ = static_cast<uint8_t*>(m);
  start_ = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(map_) + kHugePage - 1) & ~(kHugePage - 1));
#ifdef MADV_HUGEPAGE
  (void)::madvise(start_, bytes_, MADV_HUGEPAGE);  // a hint: where refused, 4 KiB pages
#endif
}

HugePageBuffer::~HugePageBuffer() { ::munmap(map_, mapped_); }

ReadProbe::ReadProbe(ThreadPool& pool, size_t bytes)
    : pool_(pool),
      slice_(slice_bytes(bytes, pool.n_threads())),
      buf_(slice_ * static_cast<size_t>(pool.n_threads())),
      read_(read_for_active_isa()) {
  pool_.run([&](int ith, int) { std::memset(buf_.data() + static_cast<size_t>(ith) * slice_, 0x5a + ith, slice_); });
}

double ReadProbe::pass() {
  std::atomic<uint64_t> sink{0};  // the folded values, so that the loads stay
  const Stopwatch sw;
  pool_.run([&](int ith, int) {
    sink.fetch_xor(read_(buf_.data() + static_cast<size_t>(ith) * slice_, slice_), std::memory_order_relaxed);
  });
  return static_cast<double>(bytes()) / sw.elapsed_s() * 1e-9;
}

ReadPass read_pass(ThreadPool& pool, std::span<const MemRange> ranges) {
  constexpr size_t kItem = size_t{256} << 10;
  struct Item {
    const uint8_t* p;
    size_t bytes;
  };
  std::vector<Item> items;
  size_t total = 0;
  for (const MemRange& r : ranges) {
    const uintptr_t b = (reinterpret_cast<uintptr_t>(r.p) + 63) & ~uintptr_t{63};
    const uintptr_t e = reinterpret_cast<uintptr_t>(r.p) + r.bytes;
    if (r.p == nullptr || e <= b) continue;
    const size_t n = (e - b) / 512 * 512;
    for (size_t off = 0; off < n; off += kItem) {
      items.push_back({reinterpret_cast<const uint8_t*>(b) + off, std::min(kItem, n - off)});
      total += items.back().bytes;
    }
  }
  if (total == 0) return {};
  const detail::ReadFn read = read_for_active_isa();
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> sink{0};
  const Stopwatch sw;
  pool.run([&](int, int) {
    uint64_t v = 0;
    for (size_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < items.size();) v ^= read(items[i].p, items[i].bytes);
    sink.fetch_xor(v, std::memory_order_relaxed);
  });
  return {total, static_cast<double>(total) / sw.elapsed_s() * 1e-9};
}

ReadBandwidth measure_read_bandwidth(ThreadPool& pool, size_t bytes, double max_seconds) {
  const Stopwatch total;
  ReadProbe probe(pool, bytes);
  std::vector<double> gbs;
  for (int pass = 0; pass < 1000; ++pass) {
    gbs.push_back(probe.pass());
    if (pass >= 2 && total.elapsed_s() >= max_seconds) break;
  }
  std::sort(gbs.begin(), gbs.end());
  const size_t n = gbs.size();
  return {n % 2 ? gbs[n / 2] : (gbs[n / 2 - 1] + gbs[n / 2]) / 2, gbs.back(), static_cast<int>(n)};
}

}  // namespace prima::kernels
