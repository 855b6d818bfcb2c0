// NEON helpers shared by the two NEON kernel tables: gemm_neon.cpp (plain ARMv8-A) and gemm_neon_dotprod.cpp
// (ARMv8.2-A + dotprod, the only file compiled with -march=armv8.2-a+dotprod). Included inside an anonymous
// namespace after <arm_neon.h>; the includer defines PRIMA_NEON_SDOT (1: 8-bit sums with SDOT, 0: without).
//
// Everything is static, and — as in x86_common.inl — these files call no inline function of another header
// (core/fp16.h, std::min, ...): the dotprod translation unit must not emit an out-of-line copy, compiled for
// ARMv8.2, that the linker could pick for baseline callers on an ARMv8.0 CPU (which would then fault).
//
// The 8-bit dot products below return int32x4 vectors whose lanes sum to the exact integer; how the products are
// spread over the lanes differs between the two forms, so callers only ever use lane sums (or pairwise sums
// of lanes that hold the same sub-block).

#if !defined(PRIMA_NEON_SDOT)
#error "define PRIMA_NEON_SDOT (0 or 1) before including neon_common.inl"
#endif

static inline int min_int(int a, int b) { return a < b ? a : b; }

// f16 bits -> f32, exact (fcvt): one value, and 4 values from 4 places (one weight row each).
static inline float half_to_f32(uint16_t h) {
  return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}
static inline float32x4_t f16x4(const uint16_t* p0, const uint16_t* p1, const uint16_t* p2, const uint16_t* p3) {
  uint16x4_t h = vld1_dup_u16(p0);
  h = vld1_lane_u16(p1, h, 1);
  h = vld1_lane_u16(p2, h, 2);
  h = vld1_lane_u16(p3, h, 3);
  return vcvt_f32_f16(vreinterpret_f16_u16(h));
}

// Σ a[k] * b[k] over 16 signed bytes (|a·b| <= 128·127). SDOT: 4 products per lane. Without: smull / smlal2 put
// two products in each i16 lane (at most 2·128·127 < 2^15), saddlp widens pairs.
static inline int32x4_t dot16(int8x16_t a, int8x16_t b) {
#if PRIMA_NEON_SDOT
  return vdotq_s32(vdupq_n_s32(0), a, b);
#else
  return vpaddlq_s16(vmlal_high_s8(vmull_s8(vget_low_s8(a), vget_low_s8(b)), a, b));
#endif
}

// Σ over 32 bytes (a0·b0 + a1·b1), when |a| <= 64 (the unsigned values u of the 4-, 5- and 6-bit types): without
// SDOT, 4 products per i16 lane (4·64·127 < 2^15) and one widening.
static inline int32x4_t dot32_small(int8x16_t a0, int8x16_t b0, int8x16_t a1, int8x16_t b1) {
#if PRIMA_NEON_SDOT
  return vdotq_s32(vdotq_s32(vdupq_n_s32(0), a0, b0), a1, b1);
#else
  int16x8_t p = vmull_s8(vget_low_s8(a0), vget_low_s8(b0));
  p = vmlal_high_s8(p, a0, b0);
  p = vmlal_s8(p, vget_low_s8(a1), vget_low_s8(b1));
  p = vmlal_high_s8(p, a1, b1);
  return vpaddlq_s16(p);
#endif
}

// The same for full-range signed bytes (Q8_0, IQ4_NL): without SDOT, two i16 sums of two products each.
static inline int32x4_t dot32_full(int8x16_t a0, int8x16_t b0, int8x16_t a1, int8x16_t b1) {
#if PRIMA_NEON_SDOT
  return vdotq_s32(vdotq_s32(vdupq_n_s32(0), a0, b0), a1, b1);
#else
  const int16x8_t p0 = vmlal_high_s8(vmull_s8(vget_low_s8(a0), vget_low_s8(b0)), a0, b0);
  const int16x8_t p1 = vmlal_high_s8(vmull_s8(vget_low_s8(a1), vget_low_s8(b1)), a1, b1);
  return vpadalq_s16(vpaddlq_s16(p0), p1);
#endif
}

// [Σ a, Σ b, Σ c, Σ d] (lane sums).
static inline int32x4_t sum4(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
  return vpaddq_s32(vpaddq_s32(a, b), vpaddq_s32(c, d));
}
