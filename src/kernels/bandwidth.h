// Memory read bandwidth probe (the profiler reuses it; DESIGN.md "Profiling").
//
//   ReadBandwidth bw = measure_read_bandwidth(pool, 256 << 20, 0.5);   // bw.median_gbs, bw.best_gbs
//
// Allocates `bytes` (rounded to whole pages per thread; make it several times the last-level cache), lets each
// pool thread fill its own slice (first touch: the pages are real, not the shared zero page), then repeats
// passes in which every thread reads its slice with wide loads (AVX-512 / AVX2 / SSE2 / NEON by active_isa()) into
// several independent accumulators — a single dependent chain under-reports by half. Runs at least three passes
// and as many more as fit in max_seconds (allocation and first touch, ~0.1-0.2 s per GB, come on top) and
// returns the median and the best pass in GB/s (1e9 bytes/s). The buffer is freed before returning.
//
// The median is the rate the memory sustains; the best pass catches moments when other tenants of a shared
// host leave the memory controllers alone (on our 2-core VM the best pass swings 30-60 GB/s within minutes
// while most passes read ~30). Decode streams its weights for a whole token, so the median is the figure it
// is held to (prima bench, the profiler).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/thread_pool.h"

namespace prima::kernels {

struct ReadBandwidth {
  double median_gbs = 0;
  double best_gbs = 0;
  int passes = 0;
};

ReadBandwidth measure_read_bandwidth(ThreadPool& pool, size_t bytes, double max_seconds);

namespace detail {
// Reads bytes (a multiple of 512, 64-byte aligned) and folds them into a value (so the loads stay).
using ReadFn = uint64_t (*)(const void* p, size_t bytes);
uint64_t read_scalar(const void* p, size_t bytes);
ReadFn read_avx2();    // null when not compiled
ReadFn read_avx512();  // null when not compiled
ReadFn read_neon();    // null when not compiled
}  // namespace detail

}  // namespace prima::kernels
