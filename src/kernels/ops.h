// Element-wise operations of the transformer (not matmuls): RMSNorm, SwiGLU, softmax, residual adds.
// Plain loops the compiler vectorises; they are a few percent of a token's time next to the matmuls.
#pragma once

#include <cstdint>

namespace prima::kernels {

// y = x / sqrt(mean(x^2) + eps) * g                                       x, y, g: [n]  (y may alias x)
void rmsnorm(const float* x, const float* g, float* y, int64_t n, float eps);

// g = silu(g) * u = g / (1 + exp(-g)) * u                                 g, u: [n]
void silu_mul(float* g, const float* u, int64_t n);

// x = softmax(x) (max-subtracted, in place)                               x: [n]
void softmax(float* x, int64_t n);

// x += y                                                                  x, y: [n]
void add(float* x, const float* y, int64_t n);

// x[r] += b for every row r                                               x: [n_rows][n], b: [n]
void add_rows(float* x, const float* b, int64_t n_rows, int64_t n);

}  // namespace prima::kernels
