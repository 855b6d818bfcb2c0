// Whether a device should release each window after using it. Releasing a window that would have stayed in
// the page cache only costs a re-read next token, so the rule is: never release what fits. When the device's
// windows do not all fit, releasing the window just used makes room for the next one; otherwise the kernel
// would evict by age, i.e. drop the window needed soonest (the one used longest ago is the next one up).
#pragma once

#include <cstdint>
#include <span>

namespace prima::memory {

struct ReleasePlan {
  bool release = false;              // the windows do not all fit in the budget: release each after use
  bool pair_fits = true;             // every window fits together with the one after it (prefetch can hold
                                     // the next window while this one is in use); false means prefetching
                                     // evicts pages still needed: the prefetch-release conflict of k = 1
  uint64_t budget_bytes = 0;         // what the caller allowed for weights
  uint64_t assigned_bytes = 0;       // sum of the windows
  uint64_t largest_pair_bytes = 0;   // largest window + its successor (cyclic: the last is followed by the first)
};

// `budget_bytes`: memory the device may fill with weights (its available memory less what it keeps in anonymous
// memory: KV cache, buffers); `window_bytes`: the bytes of each window the device computes, in ring order.
ReleasePlan plan_release(uint64_t budget_bytes, std::span<const uint64_t> window_bytes);

}  // namespace prima::memory
