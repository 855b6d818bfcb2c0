// Peak probe loops, NEON: 16 q-register chains of fmla (4 f32 lanes) or smull + smull2 + 2 sadalp (16 s8×s8
// products, the sequence our NEON quantized kernels use; references: peak.cpp).
#include "kernels/peak.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>

namespace prima::kernels::detail {
namespace {

PeakRun f32(uint64_t iters) {
  volatile float seed = 1.0f;
  float32x4_t a[16];
  for (int k = 0; k < 16; ++k) a[k] = vdupq_n_f32(seed * static_cast<float>(k));
  const float32x4_t m = vdupq_n_f32(seed * 0.999f), c = vdupq_n_f32(seed * 0.001f);
  for (uint64_t i = 0; i < iters; ++i)
    for (int k = 0; k < 16; ++k) a[k] = vfmaq_f32(c, a[k], m);
  for (int k = 1; k < 16; ++k) a[0] = vaddq_f32(a[0], a[k]);
  return {2.0 * 4 * 16 * static_cast<double>(iters), static_cast<uint64_t>(vgetq_lane_f32(a[0], 0))};
}

PeakRun int8(uint64_t iters) {
  volatile int seed = 3;
  int32x4_t a[16];
  for (int k = 0; k < 16; ++k) a[k] = vdupq_n_s32(seed + k);
  const int8x16_t s = vdupq_n_s8(static_cast<int8_t>(-seed));
  // The accumulator's bytes are one operand, so the products cannot be hoisted out of the loop.
  for (uint64_t i = 0; i < iters; ++i)
    for (int k = 0; k < 16; ++k) {
      const int8x16_t q = vreinterpretq_s8_s32(a[k]);
      a[k] = vpadalq_s16(vpadalq_s16(a[k], vmull_s8(vget_low_s8(q), vget_low_s8(s))), vmull_high_s8(q, s));
    }
  for (int k = 1; k < 16; ++k) a[0] = vaddq_s32(a[0], a[k]);
  return {2.0 * 16 * 16 * static_cast<double>(iters), static_cast<uint64_t>(vgetq_lane_s32(a[0], 0))};
}

}  // namespace

PeakFn peak_f32_neon() { return f32; }
PeakFn peak_int8_neon() { return int8; }

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
PeakFn peak_f32_neon() { return nullptr; }
PeakFn peak_int8_neon() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
