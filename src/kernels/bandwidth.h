// Memory read bandwidth probe (the profiler reuses it; DESIGN.md "Profiling").
//
//   ReadBandwidth bw = measure_read_bandwidth(pool, 256 << 20, 0.5);   // bw.median_gbs, bw.best_gbs
//
// Allocates `bytes` (rounded to whole pages per thread; make it several times the last-level cache) in huge pages
// where the OS gives them (Linux: MADV_HUGEPAGE), lets each pool thread fill its own slice (first touch: the pages
// are real, not the shared zero page), then repeats
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
#include <span>

#include "kernels/thread_pool.h"

namespace prima::kernels {

// Huge pages because the limit is the memory's, not the TLB's: on this machine (Zen 4, 2 threads, paired passes)
// a buffer in 4 KiB pages read 0.87x the rate of the same buffer in 2 MiB pages, and a model file read back from
// disk into the page cache (large folios) streams at the huge-page rate.
//
// ReadProbe is the same probe, one pass at a time, for interleaving passes with other work (prima bench holds
// every generated token to the passes right before and after it):
//
//   ReadProbe probe(pool, 1 << 30);   // allocate and first touch once
//   double gbs = probe.pass();        // one read of the whole buffer by every thread
struct ReadBandwidth {
  double median_gbs = 0;
  double best_gbs = 0;
  int passes = 0;
};

ReadBandwidth measure_read_bandwidth(ThreadPool& pool, size_t bytes, double max_seconds);

// `bytes` of anonymous memory starting on a 2 MiB boundary and advised MADV_HUGEPAGE (a hint: where refused,
// 4 KiB pages), unmapped when destroyed: the probe's buffer, and the kernel benchmarks' weights (which the
// runtime reads from 2 MiB page-cache folios). Fails (prima::Error) when it cannot be mapped.
class HugePageBuffer {
 public:
  explicit HugePageBuffer(size_t bytes);
  ~HugePageBuffer();
  HugePageBuffer(const HugePageBuffer&) = delete;
  HugePageBuffer& operator=(const HugePageBuffer&) = delete;
  uint8_t* data() const { return start_; }
  size_t size() const { return bytes_; }

 private:
  uint8_t* map_ = nullptr;  // the mapping (munmap): bytes plus one huge page
  size_t mapped_ = 0;
  uint8_t* start_ = nullptr;  // the first huge-page boundary in it
  size_t bytes_ = 0;
};

class ReadProbe {
 public:
  ReadProbe(ThreadPool& pool, size_t bytes);
  ReadProbe(const ReadProbe&) = delete;
  ReadProbe& operator=(const ReadProbe&) = delete;

  double pass();  // GB/s (1e9 bytes/s) of one read of the buffer, every pool thread its own slice
  size_t bytes() const { return slice_ * static_cast<size_t>(pool_.n_threads()); }

 private:
  ThreadPool& pool_;
  size_t slice_ = 0;  // bytes per thread, a multiple of the page
  HugePageBuffer buf_;  // the slices, one per thread
  uint64_t (*read_)(const void*, size_t) = nullptr;
};

// One read of other memory (prima bench: a model's mapped weights, to compare the pages the kernels are given
// with the probe's huge pages) by the pool's threads with the probe's loads, in dynamic items of 256 KiB: GB/s
// and the bytes read (gbs 0 when there are none). Each range is trimmed inward to 64-byte boundaries and whole
// 512-byte runs; the memory must be readable (and, to measure memory rather than the disk, resident).
struct MemRange {
  const void* p;
  size_t bytes;
};
struct ReadPass {
  size_t bytes = 0;
  double gbs = 0;
};
ReadPass read_pass(ThreadPool& pool, std::span<const MemRange> ranges);

namespace detail {
// Reads bytes (a multiple of 512, 64-byte aligned) and folds them into a value (so the loads stay).
using ReadFn = uint64_t (*)(const void* p, size_t bytes);
uint64_t read_scalar(const void* p, size_t bytes);
ReadFn read_avx2();    // null when not compiled
ReadFn read_avx512();  // null when not compiled
ReadFn read_neon();    // null when not compiled
}  // namespace detail

}  // namespace prima::kernels
