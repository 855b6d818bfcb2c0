// The canonical 8 fma lanes of gemm_impl.h / vec.h on NEON: lanes 0-3 in one q register, lanes 4-7 in another.
// Shared by gemm_neon.cpp (float weights) and vec_neon.cpp (f16 rows); the includer provides <arm_neon.h>.
//
// Weight kinds: how 4 weights become 4 exact f32 (load4) and how one does (one, for the zero-padded tail).

struct F32W {
  using T = float;
  static float32x4_t load4(const float* p) { return vld1q_f32(p); }
  static float one(float v) { return v; }
};
struct F16W {
  using T = uint16_t;
  static float32x4_t load4(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
  static float one(uint16_t v) { return fp16_to_f32(v); }
};
struct BF16W {  // bfloat16 is the upper half of a float
  using T = uint16_t;
  static float32x4_t load4(const uint16_t* p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }
  static float one(uint16_t v) { return bf16_to_f32(v); }
};

// Σ w[i] * a[i] in the canonical order: l_j = fma(w[i], a[i], l_j) for i ≡ j (mod 8), over w and a zero-padded
// to a multiple of 8 (the padded tail still goes through fma, as in the reference: fma(0, 0, -0) is +0); then
// l_j + l_{j+4}, l_j + l_{j+2}, l_0 + l_1.
template <class W>
static inline float dot8(const typename W::T* w, const float* a, int64_t n) {
  float32x4_t lo = vdupq_n_f32(0.0f), hi = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    lo = vfmaq_f32(lo, W::load4(w + i), vld1q_f32(a + i));
    hi = vfmaq_f32(hi, W::load4(w + i + 4), vld1q_f32(a + i + 4));
  }
  if (i < n) {
    float wt[8] = {}, at[8] = {};
    for (int j = 0; j < n - i; ++j) {
      wt[j] = W::one(w[i + j]);
      at[j] = a[i + j];
    }
    lo = vfmaq_f32(lo, vld1q_f32(wt), vld1q_f32(at));
    hi = vfmaq_f32(hi, vld1q_f32(wt + 4), vld1q_f32(at + 4));
  }
  const float32x4_t l4 = vaddq_f32(lo, hi);                              // l_j + l_{j+4}
  const float32x2_t l2 = vadd_f32(vget_low_f32(l4), vget_high_f32(l4));  // l_j + l_{j+2}
  return vget_lane_f32(l2, 0) + vget_lane_f32(l2, 1);
}
