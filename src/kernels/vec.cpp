// Scalar references of vec.h and the dispatch.
#include "kernels/vec.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/isa.h"
#include "kernels/ops.h"

namespace prima::kernels {
namespace detail {
namespace {

void f32_to_f16_ref(const float* x, uint16_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = f32_to_fp16(x[i]);
}
void f16_to_f32_ref(const uint16_t* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fp16_to_f32(x[i]);
}
void round_f16_ref(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = fp16_to_f32(f32_to_fp16(x[i]));
}
void dot_rows_ref1(const uint16_t* rows, size_t stride, int64_t n_rows, const float* x, int64_t n, float* out) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint16_t* a = rows + r * stride;
    float l[8] = {};  // 8 fma lanes over the zero-padded row, then the fixed tree
    for (int64_t i0 = 0; i0 < n; i0 += 8) {
      for (int j = 0; j < 8; ++j) {
        const int64_t i = i0 + j;
        l[j] = std::fma(i < n ? fp16_to_f32(a[i]) : 0.0f, i < n ? x[i] : 0.0f, l[j]);
      }
    }
    for (int width = 4; width >= 1; width /= 2)
      for (int j = 0; j < width; ++j) l[j] = l[j] + l[j + width];
    out[r] = l[0];
  }
}
void dot_rows_ref(const uint16_t* rows, size_t stride, int64_t n_rows, const float* x, int64_t n_x, int64_t n,
                  float* out) {
  for (int64_t h = 0; h < n_x; ++h) dot_rows_ref1(rows, stride, n_rows, x + h * n, n, out + h * n_rows);
}
void axpy_rows_ref(const uint16_t* rows, size_t stride, int64_t n_rows, const float* alpha, int64_t n_x, int64_t n,
                   float* y) {
  for (int64_t h = 0; h < n_x; ++h) {
    for (int64_t r = 0; r < n_rows; ++r) {
      const uint16_t* a = rows + r * stride;
      for (int64_t i = 0; i < n; ++i) y[h * n + i] = std::fma(alpha[h * n_rows + r], fp16_to_f32(a[i]), y[h * n + i]);
    }
  }
}

float exp_ref(float x) {
  if (x != x) return x;
  if (x > kExpHi) return INFINITY;
  if (x < kExpLo) return 0.0f;
  const float n = std::rint(x * kExpLog2e);  // the default rounding: to nearest, ties to even
  float r = std::fma(n, -kExpLn2Hi, x);
  r = std::fma(n, kExpLn2Lo, r);
  float p = kExpP[0];
  for (int k = 1; k < 6; ++k) p = std::fma(p, r, kExpP[k]);
  const float y = std::fma(p, r * r, r) + 1.0f;
  const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;  // 2^n, -126 <= n <= 127
  float scale;
  std::memcpy(&scale, &bits, 4);
  return y * scale;
}
void exp_row_ref(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = exp_ref(x[i]);
}
void softmax_ref(float* x, int64_t n, float scale) {
  float m = -INFINITY;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = x[i] * scale;
    m = std::max(m, x[i]);
  }
  double l[kSoftmaxLanes] = {};
  for (int64_t i = 0; i < n; ++i) {
    x[i] = exp_ref(x[i] - m);
    l[i % kSoftmaxLanes] += x[i];
  }
  for (int width = kSoftmaxLanes / 2; width >= 1; width /= 2)
    for (int j = 0; j < width; ++j) l[j] += l[j + width];
  const auto inv = static_cast<float>(1.0 / l[0]);
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] * inv;
}
void silu_mul_ref(float* g, const float* u, int64_t n) {
  for (int64_t i = 0; i < n; ++i) g[i] = (g[i] / (1.0f + exp_ref(-g[i]))) * u[i];
}

}  // namespace

const VecKernels* vec_scalar() {
  static const VecKernels k{f32_to_f16_ref, f16_to_f32_ref, round_f16_ref, dot_rows_ref, axpy_rows_ref,
                            exp_row_ref,    softmax_ref,    silu_mul_ref};
  return &k;
}

}  // namespace detail

namespace {
const detail::VecKernels& vk() {
  const detail::VecKernels* k = nullptr;
  switch (active_isa()) {
    case Isa::avx512:
    case Isa::amx: k = detail::vec_avx512(); break;  // AMX adds matrix products only
    case Isa::avx2:
    case Isa::avx_vnni: k = detail::vec_avx2(); break;  // AVX-VNNI adds 8-bit products only
    case Isa::neon:
    case Isa::neon_dotprod: k = detail::vec_neon(); break;  // no 8-bit products: the same kernels
    default: break;
  }
  return k ? *k : *detail::vec_scalar();
}
}  // namespace

void f32_to_f16_row(const float* x, fp16_t* y, int64_t n) { vk().f32_to_f16(x, y, n); }
void f16_to_f32_row(const fp16_t* x, float* y, int64_t n) { vk().f16_to_f32(x, y, n); }
void round_to_f16(float* x, int64_t n) { vk().round_f16(x, n); }
float dot_f16_f32(const fp16_t* a, const float* b, int64_t n) {
  float out;
  vk().dot_rows(a, 0, 1, b, 1, n, &out);
  return out;
}
void axpy_f16(float alpha, const fp16_t* x, float* y, int64_t n) { vk().axpy_rows(x, 0, 1, &alpha, 1, n, y); }
void dot_f16_rows(const fp16_t* rows, size_t stride, int64_t n_rows, const float* x, int64_t n_x, int64_t n, float* out) {
  vk().dot_rows(rows, stride, n_rows, x, n_x, n, out);
}
void axpy_f16_rows(const fp16_t* rows, size_t stride, int64_t n_rows, const float* alpha, int64_t n_x, int64_t n,
                   float* y) {
  vk().axpy_rows(rows, stride, n_rows, alpha, n_x, n, y);
}
void exp_row(const float* x, float* y, int64_t n) { vk().exp_row(x, y, n); }

// ops.h's two users of e(x).
void softmax(float* x, int64_t n, float scale) { vk().softmax(x, n, scale); }
void silu_mul(float* g, const float* u, int64_t n) { vk().silu_mul(g, u, n); }

}  // namespace prima::kernels
