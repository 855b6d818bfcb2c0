#include "memory/release_policy.h"

#include <algorithm>
#include <numeric>

namespace prima::memory {
namespace {

// Room the streamed windows need at once: a streamed window in use, plus the next window in ring order when
// that one is streamed too (it is being prefetched meanwhile; a kept successor is already in).
uint64_t slot_bytes(std::span<const uint64_t> w, const std::vector<bool>& streamed) {
  const size_t n = w.size();
  uint64_t slot = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!streamed[i]) continue;
    const size_t next = (i + 1) % n;
    slot = std::max(slot, w[i] + (n > 1 && streamed[next] ? w[next] : 0));
  }
  return slot;
}

struct Split {
  std::vector<bool> streamed;
  uint64_t kept = 0;
  uint64_t slot = 0;
};

// Better = more bytes kept (fewer read per cycle), then a smaller slot.
bool better(const Split& a, const Split& b) { return a.kept != b.kept ? a.kept > b.kept : a.slot < b.slot; }

// Every split with at least one streamed window, for a handful of windows (k is small in practice).
Split best_exhaustive(uint64_t budget, std::span<const uint64_t> w) {
  const size_t n = w.size();
  Split best{std::vector<bool>(n, true), 0, slot_bytes(w, std::vector<bool>(n, true))};
  for (uint32_t kept_mask = 1; kept_mask + 1 < (1u << n); ++kept_mask) {
    Split s{std::vector<bool>(n), 0, 0};
    for (size_t i = 0; i < n; ++i) {
      s.streamed[i] = ((kept_mask >> i) & 1) == 0;
      if (!s.streamed[i]) s.kept += w[i];
    }
    if (s.kept < best.kept) continue;
    s.slot = slot_bytes(w, s.streamed);
    if (s.kept + s.slot <= budget && better(s, best)) best = std::move(s);
  }
  return best;
}

// Many windows: keep the largest that still leave room for the streaming slot.
Split best_greedy(uint64_t budget, std::span<const uint64_t> w) {
  const size_t n = w.size();
  Split s{std::vector<bool>(n, true), 0, slot_bytes(w, std::vector<bool>(n, true))};
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return w[a] > w[b]; });
  size_t n_streamed = n;
  for (size_t i : order) {
    if (n_streamed == 1) break;
    s.streamed[i] = false;
    const uint64_t slot = slot_bytes(w, s.streamed);
    if (s.kept + w[i] + slot <= budget) {
      s.kept += w[i];
      s.slot = slot;
      --n_streamed;
    } else {
      s.streamed[i] = true;
    }
  }
  return s;
}

}  // namespace

ReleasePlan plan_release(uint64_t budget_bytes, std::span<const uint64_t> window_bytes) {
  ReleasePlan p;
  p.budget_bytes = budget_bytes;
  const size_t n = window_bytes.size();
  for (uint64_t w : window_bytes) p.assigned_bytes += w;
  p.release_window.assign(n, false);
  if (p.assigned_bytes <= budget_bytes) {  // never release what fits
    p.kept_bytes = p.assigned_bytes;
    return p;
  }
  const Split s = n <= 16 ? best_exhaustive(budget_bytes, window_bytes) : best_greedy(budget_bytes, window_bytes);
  p.release = true;
  p.release_window = s.streamed;
  p.kept_bytes = s.kept;
  p.streamed_bytes = p.assigned_bytes - s.kept;
  p.slot_bytes = s.slot;
  p.pair_fits = s.kept + s.slot <= budget_bytes;
  return p;
}

}  // namespace prima::memory
