// The canonical 8 fma lanes of gemm_impl.h / vec.h on NEON: lanes 0-3 in one q register, lanes 4-7 in another.
// Shared by gemm_neon.cpp (float weights) and vec_neon.cpp (f16 rows); the includer provides <arm_neon.h>.
//
// Weight kinds: how 4 or 8 weights become exact f32 (load4, load8) and how one does (one, for the zero-padded
// tail).

struct F32W {
  using T = float;
  static float32x4_t load4(const float* p) { return vld1q_f32(p); }
  static void load8(const float* p, float32x4_t* lo, float32x4_t* hi) {
    *lo = vld1q_f32(p);
    *hi = vld1q_f32(p + 4);
  }
  static float one(float v) { return v; }
};
struct F16W {
  using T = uint16_t;
  static float32x4_t load4(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
  static void load8(const uint16_t* p, float32x4_t* lo, float32x4_t* hi) {
    const uint16x8_t v = vld1q_u16(p);
    *lo = vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(v)));
    *hi = vcvt_high_f32_f16(vreinterpretq_f16_u16(v));
  }
  static float one(uint16_t v) { return fp16_to_f32(v); }
};
struct BF16W {  // bfloat16 is the upper half of a float
  using T = uint16_t;
  static float32x4_t load4(const uint16_t* p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }
  static void load8(const uint16_t* p, float32x4_t* lo, float32x4_t* hi) {
    const uint16x8_t v = vld1q_u16(p);
    *lo = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(v), 16));
    *hi = vreinterpretq_f32_u32(vshll_high_n_u16(v, 16));
  }
  static float one(uint16_t v) { return bf16_to_f32(v); }
};

// Σ w[r][i] * a[i] for R rows at once (out[r]), each in the canonical order: l_j = fma(w[i], a[i], l_j) for
// i ≡ j (mod 8), over w and a zero-padded to a multiple of 8 (the padded tail still goes through fma, as in the
// reference: fma(0, 0, -0) is +0); then l_j + l_{j+4}, l_j + l_{j+2}, l_0 + l_1. Each load of a serves the R rows
// (decode: one activation row against many weight rows).
template <class W, int R>
static inline void dot8_rows(const typename W::T* const* w, const float* a, int64_t n, float* out) {
  float32x4_t lo[R], hi[R];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) lo[r] = hi[r] = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const float32x4_t a0 = vld1q_f32(a + i), a1 = vld1q_f32(a + i + 4);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      float32x4_t w0, w1;
      W::load8(w[r] + i, &w0, &w1);
      lo[r] = vfmaq_f32(lo[r], w0, a0);
      hi[r] = vfmaq_f32(hi[r], w1, a1);
    }
  }
  if (i < n) {
    float at[8] = {};
    for (int j = 0; j < n - i; ++j) at[j] = a[i + j];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      float wt[8] = {};
      for (int j = 0; j < n - i; ++j) wt[j] = W::one(w[r][i + j]);
      lo[r] = vfmaq_f32(lo[r], vld1q_f32(wt), vld1q_f32(at));
      hi[r] = vfmaq_f32(hi[r], vld1q_f32(wt + 4), vld1q_f32(at + 4));
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    const float32x4_t l4 = vaddq_f32(lo[r], hi[r]);                        // l_j + l_{j+4}
    const float32x2_t l2 = vadd_f32(vget_low_f32(l4), vget_high_f32(l4));  // l_j + l_{j+2}
    out[r] = vget_lane_f32(l2, 0) + vget_lane_f32(l2, 1);
  }
}

template <class W>
static inline float dot8(const typename W::T* w, const float* a, int64_t n) {
  float out;
  dot8_rows<W, 1>(&w, a, n, &out);
  return out;
}
