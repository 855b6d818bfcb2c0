#include "kernels/ops.h"

#include <algorithm>
#include <cmath>

namespace prima::kernels {

void rmsnorm(const float* x, const float* g, float* y, int64_t n, float eps) {
  double sum = 0.0;  // double, as the reference does: n_embd can reach 8192
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  const float scale = 1.0f / std::sqrt(static_cast<float>(sum / static_cast<double>(n)) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * g[i];
}

void add(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

void add_rows(float* x, const float* b, int64_t n_rows, int64_t n) {
  for (int64_t r = 0; r < n_rows; ++r) add(x + r * n, b, n);
}

}  // namespace prima::kernels
