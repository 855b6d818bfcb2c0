// vec.h kernels on NEON (references: vec.cpp), for both NEON instruction sets (neon, neondot: nothing here uses
// 8-bit products): conversions with vcvt (exact / round to nearest even; round_f16 is the two in a row), dot products in the canonical 8 fma
// lanes of neon_l8.inl (4 rows per pass), axpy as one fma per element and row, rows in order.
#include "kernels/vec.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>

#include <cmath>

namespace prima::kernels::detail {
namespace {
#include "kernels/neon_l8.inl"

void f32_to_f16_neon(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1_u16(y + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(x + i))));
  for (; i < n; ++i) y[i] = f32_to_fp16(x[i]);
}

void f16_to_f32_neon(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, F16W::load4(x + i));
  for (; i < n; ++i) y[i] = fp16_to_f32(x[i]);
}

void round_f16_neon(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vcvt_f32_f16(vcvt_f16_f32(vld1q_f32(x + i))));
  for (; i < n; ++i) x[i] = fp16_to_f32(f32_to_fp16(x[i]));
}

// 4 rows per pass, sharing each load of x.
void dot_rows_neon1(const uint16_t* rows, size_t stride, int64_t n_rows, const float* x, int64_t n, float* out) {
  int64_t r = 0;
  for (; r + 4 <= n_rows; r += 4) {
    const uint16_t* w[4] = {rows + r * stride, rows + (r + 1) * stride, rows + (r + 2) * stride, rows + (r + 3) * stride};
    dot8_rows<F16W, 4>(w, x, n, out + r);
  }
  for (; r < n_rows; ++r) out[r] = dot8<F16W>(rows + r * stride, x, n);
}

// The n_x vectors one after the other (unlike x86, each converts the rows again: not measured on ARM hardware).
void dot_rows_neon(const uint16_t* rows, size_t stride, int64_t n_rows, const float* x, int64_t n_x, int64_t n,
                   float* out) {
  for (int64_t h = 0; h < n_x; ++h) dot_rows_neon1(rows, stride, n_rows, x + h * n, n, out + h * n_rows);
}

// y[i] = fma(alpha[r], row r [i], y[i]) for r in order.
void axpy_rows_neon1(const uint16_t* rows, size_t stride, int64_t n_rows, const float* alpha, int64_t n, float* y) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint16_t* a = rows + r * stride;
    const float32x4_t w = vdupq_n_f32(alpha[r]);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_f32(vld1q_f32(y + i), F16W::load4(a + i), w));
    for (; i < n; ++i) y[i] = std::fma(alpha[r], fp16_to_f32(a[i]), y[i]);
  }
}

void axpy_rows_neon(const uint16_t* rows, size_t stride, int64_t n_rows, const float* alpha, int64_t n_x, int64_t n,
                    float* y) {
  for (int64_t h = 0; h < n_x; ++h) axpy_rows_neon1(rows, stride, n_rows, alpha + h * n_rows, n, y + h * n);
}

}  // namespace

const VecKernels* vec_neon() {
  static const VecKernels k{f32_to_f16_neon, f16_to_f32_neon, round_f16_neon, dot_rows_neon, axpy_rows_neon};
  return &k;
}

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
const VecKernels* vec_neon() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
