// Shared state of the kernel benchmarks: one thread pool (PRIMA_BENCH_THREADS, default 2) and weights.
//
//   ./bench_kernels                                  # every type, decode + prefill + bandwidth
//   PRIMA_ISA=avx2 PRIMA_BENCH_THREADS=1 ./bench_kernels --benchmark_filter='decode/Q4_K'
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernels/bandwidth.h"
#include "kernels/thread_pool.h"
#include "tensor/types.h"

namespace prima::kernels::bench {

ThreadPool& pool();

// `copies` copies of one n_out × n_in matrix of type t, each row a valid quantization of random N(0, 0.02)
// data (64 distinct rows repeated: the bytes differ per copy position only in place, which is all a memory
// stream cares about). In a HugePageBuffer (2 MiB-aligned, MADV_HUGEPAGE): the pages the runtime's
// weights are read from (the page cache's 2 MiB folios, memory/huge_pages.h), not 4 KiB ones, which stream
// 5-10 % slower here.
struct Weights {
  ggml_type type;
  int64_t n_in, n_out;
  size_t row_bytes, matrix_bytes;
  int copies;
  std::shared_ptr<HugePageBuffer> data;  // [copies][n_out][row_bytes]
  const void* matrix(int i) const { return data->data() + static_cast<size_t>(i) * matrix_bytes; }
};
// At least `min_total_bytes` in all (so that decode streams from memory, not from the last-level cache).
Weights make_weights(ggml_type t, int64_t n_out, int64_t n_in, size_t min_total_bytes);

}  // namespace prima::kernels::bench
