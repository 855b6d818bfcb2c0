// Vector helpers for the model's own loops over f16 data (attention over an F16 KV cache, cache writes).
// Each has a scalar reference and AVX2 / AVX-512 / NEON variants chosen by active_isa() at the call; every variant
// gives bit-identical results (conversions are exact / round to nearest even), because all follow one
// canonical order of float operations (the spec every port follows; vec.cpp is its executable form; the kernels library is built with -ffp-contract=off, so only the fma written here are fused):
//
//   dot (dot_f16_f32, dot_f16_rows), per row, as float matmul weights (gemm_impl.h): 8 lanes over the row
//     zero-padded to a multiple of 8, lane j: l_j = 0; l_j = fma(a[i], x[i], l_j) for i = j, j + 8, j + 16, ...
//     in order; then the fixed tree l_j = l_j + l_{j+4} (j < 4), l_j = l_j + l_{j+2} (j < 2), result l_0 + l_1.
//     (Of the SIMD-friendly orders tried on the fixture models — 8, 16 or 32 lanes, with or without fma, or
//     sums in double — all pass; 8 lanes lands closest to llama.cpp's logits.)
//   axpy (axpy_f16, axpy_f16_rows), per element: y[i] = fma(alpha[r], row_r[i], y[i]) for r = 0, 1, ... in
//     order (one rounding per row).
//
//   f32_to_f16_row(x, y, n)     y[i] = half(x[i])                 (K/V into the cache)
//   f16_to_f32_row(x, y, n)     y[i] = float(x[i])
//   round_to_f16(x, n)          x[i] = float(half(x[i]))         (f16 precision in f32: attention's q and weights)
//   dot_f16_f32(a, b, n)        Σ a[i] * b[i]                     (one attention score)
//   axpy_f16(alpha, x, y, n)    y[i] += alpha * x[i]              (one value row into the output)
//   dot_f16_rows(rows, stride, n_rows, x, n_x, n, out)
//       out[h*n_rows + r] = Σ_i rows[r*stride + i] * x[h*n + i]   for h < n_x   (all scores of n_x queries)
//   axpy_f16_rows(rows, stride, n_rows, alpha, n_x, n, y)
//       y[h*n + i] += Σ_r alpha[h*n_rows + r] * rows[r*stride + i]  for h < n_x   (softmax · V of n_x heads)
// The n_x vectors share each row's conversion from f16 (the query heads of one KV head in grouped-query
// attention: Llama-3-8B has 4 per KV head); every (h, r) keeps the canonical order above.
// Strides are in elements. No alignment required. n may be any size (tails handled).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/fp16.h"

namespace prima::kernels {

void f32_to_f16_row(const float* x, fp16_t* y, int64_t n);
void f16_to_f32_row(const fp16_t* x, float* y, int64_t n);
void round_to_f16(float* x, int64_t n);
float dot_f16_f32(const fp16_t* a, const float* b, int64_t n);
void axpy_f16(float alpha, const fp16_t* x, float* y, int64_t n);
void dot_f16_rows(const fp16_t* rows, size_t stride, int64_t n_rows, const float* x, int64_t n_x, int64_t n, float* out);
void axpy_f16_rows(const fp16_t* rows, size_t stride, int64_t n_rows, const float* alpha, int64_t n_x, int64_t n,
                   float* y);

namespace detail {
struct VecKernels {
  void (*f32_to_f16)(const float*, uint16_t*, int64_t);
  void (*f16_to_f32)(const uint16_t*, float*, int64_t);
  void (*round_f16)(float*, int64_t);
  void (*dot_rows)(const uint16_t* rows, size_t stride, int64_t n_rows, const float* x, int64_t n_x, int64_t n,
                   float* out);
  void (*axpy_rows)(const uint16_t* rows, size_t stride, int64_t n_rows, const float* alpha, int64_t n_x, int64_t n,
                    float* y);
};
const VecKernels* vec_scalar();
const VecKernels* vec_avx2();    // null when not compiled
const VecKernels* vec_avx512();  // null when not compiled
const VecKernels* vec_neon();    // null when not compiled
}  // namespace detail

}  // namespace prima::kernels
