// Which layers each device of a ring computes. Devices are in ring order (workers w1 … wN-1, head last); device m
// owns a window of w_m consecutive layers per cycle; W = Σ w_m and the token goes round k = n_layer / W times. In
// cycle c device m computes layers [c·W + offset_m, c·W + offset_m + w_m), offset_m = Σ_{j<m} w_j: the head holds
// the embedding, the last window and the output layer, so the final hidden state never crosses the network.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace prima::runtime {

using LayerRange = std::pair<int32_t, int32_t>;  // [il_begin, il_end)

struct RingPlan {
  int32_t n_layer = 0;
  int32_t k = 1;
  std::vector<int32_t> windows;  // per device, ring order, head last

  int32_t window_sum() const;
  // Layer ranges of device m, one per cycle.
  std::vector<LayerRange> ranges(size_t m) const;
  std::string describe() const;  // "k=2, windows 3,3,2 (w1 [0,3) [8,11), ...)"

  // Windows as given by --layer-window ("3,3,2"); throws prima::Error when they do not divide n_layer.
  static RingPlan from_windows(int32_t n_layer, const std::vector<int32_t>& windows);
  // An even split of the layers over n devices, k = 1 (the head takes one fewer when they do not divide).
  static RingPlan even(int32_t n_layer, int32_t n_devices);
};

std::vector<int32_t> parse_int_list(const std::string& text, const std::string& flag);

}  // namespace prima::runtime
