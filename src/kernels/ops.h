// Element-wise operations of the transformer (not matmuls): RMSNorm, SwiGLU, softmax, residual adds.
// Plain loops the compiler vectorises (ops.cpp), but for the two that take exp (vec.cpp): libm's expf, one call
// per value, had made the attention softmax cost as much as the scores at 1K-token contexts.
#pragma once

#include <cstdint>

namespace prima::kernels {

// y = x / sqrt(mean(x^2) + eps) * g                                       x, y, g: [n]  (y may alias x)
void rmsnorm(const float* x, const float* g, float* y, int64_t n, float eps);

// g = silu(g) * u = g / (1 + exp(-g)) * u                                 g, u: [n]
// (vec.cpp: SIMD on vec.h's canonical exp, the same bits on every instruction set)
void silu_mul(float* g, const float* u, int64_t n);

// x = softmax(scale * x) (max-subtracted, in place; vec.cpp, as silu_mul)  x: [n]
void softmax(float* x, int64_t n, float scale = 1.0f);

// x += y                                                                  x, y: [n]
void add(float* x, const float* y, int64_t n);

// x[r] += b for every row r                                               x: [n_rows][n], b: [n]
void add_rows(float* x, const float* b, int64_t n_rows, int64_t n);

}  // namespace prima::kernels
