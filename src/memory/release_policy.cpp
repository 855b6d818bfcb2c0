#include "memory/release_policy.h"

#include <algorithm>

namespace prima::memory {

ReleasePlan plan_release(uint64_t budget_bytes, std::span<const uint64_t> window_bytes) {
  ReleasePlan p;
  p.budget_bytes = budget_bytes;
  const size_t n = window_bytes.size();
  for (size_t i = 0; i < n; ++i) {
    p.assigned_bytes += window_bytes[i];
    // One window (k = 1) is followed by itself: the pair is the window.
    const uint64_t pair = n == 1 ? window_bytes[i] : window_bytes[i] + window_bytes[(i + 1) % n];
    p.largest_pair_bytes = std::max(p.largest_pair_bytes, pair);
  }
  p.release = p.assigned_bytes > budget_bytes;
  p.pair_fits = p.largest_pair_bytes <= budget_bytes;
  return p;
}

}  // namespace prima::memory
