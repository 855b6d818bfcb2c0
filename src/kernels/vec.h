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
//
//   exp_row(x, y, n)            y[i] = e(x[i])                    (e: the canonical exp below)
//   softmax(x, n, scale) (ops.h), silu_mul(g, u, n) (ops.h)     on e, in this order of operations:
//       softmax: x[i] = x[i] · scale; m = max x[i]; x[i] = e(x[i] - m); s = Σ x[i] in double over 16 lanes
//       (lane j: i = j, j + 16, ... in order; then the tree l_j += l_{j+8}, +4, +2, +1); x[i] = x[i] · float(1 / s)
//       silu_mul: g[i] = (g[i] / (1 + e(-g[i]))) · u[i]
//   e(x), an exp within 2 ulp of the exact one for -87 <= x <= 88, in float operations every port repeats:
//       x > 88 -> +inf; x < -87.33654 -> 0 (where exp falls under 2^-126); NaN -> x; otherwise
//       n = rint(x · log2(e)); r = fma(n, -0.693359375, x); r = fma(n, 2.12194440e-4, r)   (ln 2 in two parts)
//       p = 1.9875691500e-4; p = fma(p, r, c) for c = 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
//       1.6666665459e-1, 5.0000001201e-1 (Cephes' expf polynomial); y = fma(p, r · r, r) + 1; e = y · 2^n
//   (It replaces libm's expf, one scalar call per value, which made the softmax of a long context as slow as
//   its scores.)
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
void exp_row(const float* x, float* y, int64_t n);

namespace detail {
// The constants of e(x) (vec.h), shared by every port.
inline constexpr float kExpHi = 88.0f;              // above: +inf (n stays <= 127)
inline constexpr float kExpLo = -87.33654f;         // below: 0 (n stays >= -126)
inline constexpr float kExpLog2e = 1.44269504088896341f;
inline constexpr float kExpLn2Hi = 0.693359375f;    // ln 2 = kExpLn2Hi - kExpLn2Lo
inline constexpr float kExpLn2Lo = 2.12194440e-4f;
inline constexpr float kExpP[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                   4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
constexpr int kSoftmaxLanes = 16;                   // double lanes of the softmax sum

struct VecKernels {
  void (*f32_to_f16)(const float*, uint16_t*, int64_t);
  void (*f16_to_f32)(const uint16_t*, float*, int64_t);
  void (*round_f16)(float*, int64_t);
  void (*dot_rows)(const uint16_t* rows, size_t stride, int64_t n_rows, const float* x, int64_t n_x, int64_t n,
                   float* out);
  void (*axpy_rows)(const uint16_t* rows, size_t stride, int64_t n_rows, const float* alpha, int64_t n_x, int64_t n,
                    float* y);
  void (*exp_row)(const float* x, float* y, int64_t n);
  void (*softmax)(float* x, int64_t n, float scale);
  void (*silu_mul)(float* g, const float* u, int64_t n);
};
const VecKernels* vec_scalar();
const VecKernels* vec_avx2();    // null when not compiled
const VecKernels* vec_avx512();  // null when not compiled
const VecKernels* vec_neon();    // null when not compiled
}  // namespace detail

}  // namespace prima::kernels
