// vec.h kernels on NEON (references: vec.cpp), for both NEON instruction sets (neon, neondot: nothing here uses
// 8-bit products): conversions with vcvt (exact / round to nearest even; round_f16 is the two in a row), dot
// products in the canonical 8 fma lanes of neon_l8.inl (4 rows per pass for one vector; up to 4 vectors per
// converted row for several), axpy as one fma per element and row, rows in order.
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

// One row against NX vectors (out[h * ldo]): each 8 values of the row converted once for all of them, every
// (row, vector) in dot8_rows' canonical order (lanes 0-3 in lo, 4-7 in hi, the same tail and tree).
template <int NX>
static inline void dot8_vecs(const uint16_t* w, const float* x, int64_t n, float* out, int64_t ldo) {
  float32x4_t lo[NX], hi[NX];
#pragma GCC unroll 4
  for (int h = 0; h < NX; ++h) lo[h] = hi[h] = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    float32x4_t w0, w1;
    F16W::load8(w + i, &w0, &w1);
#pragma GCC unroll 4
    for (int h = 0; h < NX; ++h) {
      lo[h] = vfmaq_f32(lo[h], w0, vld1q_f32(x + h * n + i));
      hi[h] = vfmaq_f32(hi[h], w1, vld1q_f32(x + h * n + i + 4));
    }
  }
  if (i < n) {
    float wt[8] = {};
    for (int j = 0; j < n - i; ++j) wt[j] = F16W::one(w[i + j]);
#pragma GCC unroll 4
    for (int h = 0; h < NX; ++h) {
      float at[8] = {};
      for (int j = 0; j < n - i; ++j) at[j] = x[h * n + i + j];
      lo[h] = vfmaq_f32(lo[h], vld1q_f32(wt), vld1q_f32(at));
      hi[h] = vfmaq_f32(hi[h], vld1q_f32(wt + 4), vld1q_f32(at + 4));
    }
  }
#pragma GCC unroll 4
  for (int h = 0; h < NX; ++h) {
    const float32x4_t l4 = vaddq_f32(lo[h], hi[h]);
    const float32x2_t l2 = vadd_f32(vget_low_f32(l4), vget_high_f32(l4));
    out[h * ldo] = vget_lane_f32(l2, 0) + vget_lane_f32(l2, 1);
  }
}

// One vector: 4 rows per pass (dot_rows_neon1). Several (grouped-query attention): up to 4 per pass over the
// rows, each row converted once for them.
void dot_rows_neon(const uint16_t* rows, size_t stride, int64_t n_rows, const float* x, int64_t n_x, int64_t n,
                   float* out) {
  if (n_x == 1) {
    dot_rows_neon1(rows, stride, n_rows, x, n, out);
    return;
  }
  for (int64_t h0 = 0; h0 < n_x; h0 += 4) {
    const float* xh = x + h0 * n;
    float* oh = out + h0 * n_rows;
    const int64_t nx = n_x - h0 < 4 ? n_x - h0 : 4;
    for (int64_t r = 0; r < n_rows; ++r) {
      const uint16_t* w = rows + r * stride;
      switch (nx) {
        case 1: dot8_vecs<1>(w, xh, n, oh + r, n_rows); break;
        case 2: dot8_vecs<2>(w, xh, n, oh + r, n_rows); break;
        case 3: dot8_vecs<3>(w, xh, n, oh + r, n_rows); break;
        default: dot8_vecs<4>(w, xh, n, oh + r, n_rows); break;
      }
    }
  }
}

// y[h*n + i] = fma(alpha[h*n_rows + r], row r [i], y[h*n + i]) for r in order; each 4 values of a row converted
// once for the n_x vectors.
void axpy_rows_neon(const uint16_t* rows, size_t stride, int64_t n_rows, const float* alpha, int64_t n_x, int64_t n,
                    float* y) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const uint16_t* a = rows + r * stride;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      const float32x4_t w = F16W::load4(a + i);
      for (int64_t h = 0; h < n_x; ++h)
        vst1q_f32(y + h * n + i, vfmaq_f32(vld1q_f32(y + h * n + i), w, vdupq_n_f32(alpha[h * n_rows + r])));
    }
    for (; i < n; ++i) {
      const float f = fp16_to_f32(a[i]);
      for (int64_t h = 0; h < n_x; ++h) y[h * n + i] = std::fma(alpha[h * n_rows + r], f, y[h * n + i]);
    }
  }
}

// ---- e(x), softmax and silu_mul on vec.h's canonical exp: the scalar reference's float operations, lane by lane
static inline float32x4_t exp4(float32x4_t x) {
  const float32x4_t n = vrndnq_f32(vmulq_f32(x, vdupq_n_f32(kExpLog2e)));  // to nearest, ties to even
  float32x4_t r = vfmaq_f32(x, n, vdupq_n_f32(-kExpLn2Hi));                // x + n * (-ln2_hi), one rounding
  r = vfmaq_f32(r, n, vdupq_n_f32(kExpLn2Lo));
  float32x4_t p = vdupq_n_f32(kExpP[0]);
#pragma GCC unroll 5
  for (int k = 1; k < 6; ++k) p = vfmaq_f32(vdupq_n_f32(kExpP[k]), p, r);
  const float32x4_t y = vaddq_f32(vfmaq_f32(r, p, vmulq_f32(r, r)), vdupq_n_f32(1.0f));
  const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
  float32x4_t v = vmulq_f32(y, vreinterpretq_f32_s32(e));
  v = vbslq_f32(vcgtq_f32(x, vdupq_n_f32(kExpHi)), vdupq_n_f32(INFINITY), v);
  v = vbslq_f32(vcltq_f32(x, vdupq_n_f32(kExpLo)), vdupq_n_f32(0.0f), v);
  return vbslq_f32(vceqq_f32(x, x), v, x);  // NaN: x
}
static inline float exp1(float x) { return vgetq_lane_f32(exp4(vdupq_n_f32(x)), 0); }

void exp_row_neon(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, exp4(vld1q_f32(x + i)));
  for (; i < n; ++i) y[i] = exp1(x[i]);
}

void softmax_neon(float* x, int64_t n, float scale) {
  float32x4_t mv = vdupq_n_f32(-INFINITY);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t v = vmulq_f32(vld1q_f32(x + i), vdupq_n_f32(scale));
    vst1q_f32(x + i, v);
    mv = vmaxq_f32(mv, v);
  }
  float m = vmaxvq_f32(mv);
  for (; i < n; ++i) {
    x[i] = x[i] * scale;
    m = x[i] > m ? x[i] : m;
  }
  // e(x - m), summed in 16 double lanes (lane j: values j, j + 16, ...)
  const float32x4_t mq = vdupq_n_f32(m);
  float64x2_t l2[8];
  for (auto& v : l2) v = vdupq_n_f64(0.0);
  i = 0;
  for (; i + 16 <= n; i += 16) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      const float32x4_t e = exp4(vsubq_f32(vld1q_f32(x + i + 4 * k), mq));
      vst1q_f32(x + i + 4 * k, e);
      l2[2 * k] = vaddq_f64(l2[2 * k], vcvt_f64_f32(vget_low_f32(e)));
      l2[2 * k + 1] = vaddq_f64(l2[2 * k + 1], vcvt_high_f64_f32(e));
    }
  }
  double l[kSoftmaxLanes];
  for (int k = 0; k < 8; ++k) vst1q_f64(l + 2 * k, l2[k]);
  for (int j = 0; i < n; ++i, ++j) {
    x[i] = exp1(x[i] - m);
    l[j] += x[i];
  }
  for (int width = kSoftmaxLanes / 2; width >= 1; width /= 2)
    for (int j = 0; j < width; ++j) l[j] += l[j + width];
  const auto inv = static_cast<float>(1.0 / l[0]);
  i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_f32(vld1q_f32(x + i), vdupq_n_f32(inv)));
  for (; i < n; ++i) x[i] = x[i] * inv;
}

void silu_mul_neon(float* g, const float* u, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const float32x4_t gv = vld1q_f32(g + i);
    const float32x4_t d = vaddq_f32(vdupq_n_f32(1.0f), exp4(vnegq_f32(gv)));
    vst1q_f32(g + i, vmulq_f32(vdivq_f32(gv, d), vld1q_f32(u + i)));
  }
  for (; i < n; ++i) g[i] = (g[i] / (1.0f + exp1(-g[i]))) * u[i];
}

}  // namespace

const VecKernels* vec_neon() {
  static const VecKernels k{f32_to_f16_neon, f16_to_f32_neon, round_f16_neon, dot_rows_neon,
                            axpy_rows_neon,  exp_row_neon,    softmax_neon,   silu_mul_neon};
  return &k;
}

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
const VecKernels* vec_neon() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
