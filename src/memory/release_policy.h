// Which windows a device should release after using them. Releasing a window that would have stayed in the
// page cache only costs a re-read next token, so: never release what fits.
//
// When the device's windows do not all fit, releasing *every* window gains nothing on its own: a cyclic scan
// through a cache smaller than the data misses every time (measured: a 128 MiB file read in 16 MiB windows in a
// 64 MiB homelab device read 128 MiB from disk per pass with or without releasing each window). What pays is
// to keep some windows resident for good and stream only the others through a small slot, releasing each
// streamed window right after use so it never pushes a kept one out: then only the streamed bytes are read
// per cycle (the "re-read only the overflow" that the scheduler's disk model assumes, DESIGN.md §1).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace prima::memory {

struct ReleasePlan {
  bool release = false;              // some window must be released after use (the windows do not all fit)
  std::vector<bool> release_window;  // per window: true = streamed (prefetch, use, release), false = kept
  uint64_t budget_bytes = 0;         // what the caller allowed for weights
  uint64_t assigned_bytes = 0;       // sum of the windows
  uint64_t kept_bytes = 0;           // windows that stay in the page cache
  uint64_t streamed_bytes = 0;       // read from disk every cycle
  uint64_t slot_bytes = 0;           // room the streamed windows need at once: the largest streamed window
                                     // with the next streamed one (being prefetched)
  bool pair_fits = true;             // the streamed windows fit their slot next to the kept ones; false: even
                                     // one window with its successor exceeds the budget, so prefetching the
                                     // next evicts pages still needed (the prefetch-release conflict of k = 1)
};

// Chooses the split that keeps the most bytes while kept + slot fits the budget (exhaustively for up to 16
// windows, else greedily, largest windows kept first). When not even the streaming slot fits, every window is
// streamed and pair_fits is false.
// `budget_bytes`: memory the device may fill with weights (its available memory less what it keeps in anonymous
// memory: KV cache, buffers); `window_bytes`: the bytes of each window the device computes, in ring order
// (the last is followed by the first of the next token).
ReleasePlan plan_release(uint64_t budget_bytes, std::span<const uint64_t> window_bytes);

}  // namespace prima::memory
