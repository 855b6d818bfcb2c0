// Products with GGUF weight matrices on the CPU.
//
//   WeightMatrix w{type, data, n_in, n_out, row_bytes};   // as stored in GGUF: n_out rows of n_in values
//   matmul(pool, w, x, n_tok, y);                          // y[n_tok][n_out] = x[n_tok][n_in] · Wᵀ
//   matmul(pool, {{wq, q}, {wk, k}, {wv, v}}, x, n_tok);   // several matrices of one input (same n_in)
//
// - Every type of prima::kSupportedTypes; n_in a multiple of the type's block size, row_bytes >=
//   row_size(type, n_in) (check at load: matmul trusts its inputs). x and y are f32, row-major, contiguous, and
//   must not overlap.
// - x is converted once per call into the activation format of the weight type (f32 for F32/F16/BF16; 8-bit
//   blocks of 32 with a scale and sum for Q4_0..Q8_0 and IQ4_NL; 256-value Q8_K blocks for the K-quants), as
//   llama.cpp does; the error of the 8-bit activations is ~0.3 % of a dot product's scale.
// - n_tok == 1 (decode) streams the weights once, output rows split across the pool's threads in chunks handed
//   out dynamically; n_tok > 1 (prefill) works on tiles of (rows × tokens) sized for the caches, each weight
//   block unpacked once per group of tokens. Both use the instruction set active_isa() names at the call.
// - Several matrices of one input (Q, K and V; gate and up) are one call: x is quantized once per activation
//   format they need and their tiles go to the threads as one list, so the pool starts and waits once instead
//   of once per matrix (each wait idles a thread for up to the last tile). Each output keeps its bits.
// - No allocation in steady state: quantized activations live in the pool's matmul scratch slot, which grows
//   to the largest call and stays. Not reentrant on one pool (one caller at a time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "kernels/thread_pool.h"
#include "tensor/types.h"

namespace prima::kernels {

struct WeightMatrix {
  ggml_type type;
  const void* data;  // n_out rows
  int64_t n_in;      // values per row (ne0, contiguous)
  int64_t n_out;     // rows (ne1)
  size_t row_bytes;  // stride between rows
};

void matmul(ThreadPool& pool, const WeightMatrix& w, const float* x, int64_t n_tok, float* y);

struct MatmulJob {
  WeightMatrix w;
  float* y;  // [n_tok][w.n_out]
};
constexpr size_t kMaxJobs = 4;
// jobs: 1..kMaxJobs matrices with the same n_in; their y must not overlap x or each other.
void matmul(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int64_t n_tok);
inline void matmul(ThreadPool& pool, std::initializer_list<MatmulJob> jobs, const float* x, int64_t n_tok) {
  matmul(pool, std::span<const MatmulJob>(jobs.begin(), jobs.size()), x, n_tok);
}

}  // namespace prima::kernels
