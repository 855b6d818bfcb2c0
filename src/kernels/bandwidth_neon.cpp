// Read kernel of the bandwidth probe on NEON (reference: read_scalar in bandwidth.cpp): 16-byte loads into
// 8 independent accumulators.
#include "kernels/bandwidth.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>

namespace prima::kernels::detail {
namespace {

uint64_t read_q(const void* p, size_t bytes) {
  const auto* v = static_cast<const uint64_t*>(p);
  uint64x2_t a[8];
  for (auto& x : a) x = vdupq_n_u64(0);
  for (size_t i = 0; i < bytes / 8; i += 16)
    for (int k = 0; k < 8; ++k) a[k] = veorq_u64(a[k], vld1q_u64(v + i + 2 * k));
  for (int k = 1; k < 8; ++k) a[0] = veorq_u64(a[0], a[k]);
  return vgetq_lane_u64(a[0], 0) ^ vgetq_lane_u64(a[0], 1);
}

}  // namespace

ReadFn read_neon() { return read_q; }

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
ReadFn read_neon() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
