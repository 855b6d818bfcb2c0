// Peak probe loop, NEON with the dot-product extension: 16 q-register chains of SDOT (16 s8×s8 products into 4
// i32 lanes each, the instruction of the neon_dotprod kernels; references: peak.cpp). Compiled with
// -march=armv8.2-a+dotprod and only run when the CPU has it.
#include "kernels/peak.h"

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
#include <arm_neon.h>

namespace prima::kernels::detail {
namespace {

PeakRun int8(uint64_t iters) {
  volatile int seed = 3;
  int32x4_t a[16];
  for (int k = 0; k < 16; ++k) a[k] = vdupq_n_s32(seed + k);
  const int8x16_t s = vdupq_n_s8(static_cast<int8_t>(-seed));
  // The accumulator's bytes are one operand, so the products cannot be hoisted out of the loop.
  for (uint64_t i = 0; i < iters; ++i)
    for (int k = 0; k < 16; ++k) a[k] = vdotq_s32(a[k], vreinterpretq_s8_s32(a[k]), s);
  for (int k = 1; k < 16; ++k) a[0] = vaddq_s32(a[0], a[k]);
  return {2.0 * 16 * 16 * static_cast<double>(iters), static_cast<uint64_t>(vgetq_lane_s32(a[0], 0))};
}

}  // namespace

PeakFn peak_int8_neon_dotprod() { return int8; }

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
PeakFn peak_int8_neon_dotprod() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
