#include "runtime/ring_plan.h"

#include <fmt/format.h>

#include <charconv>
#include <numeric>

#include "core/error.h"

namespace prima::runtime {

int32_t RingPlan::window_sum() const { return std::accumulate(windows.begin(), windows.end(), 0); }

std::vector<LayerRange> RingPlan::ranges(size_t m) const {
  const int32_t W = window_sum();
  int32_t offset = 0;
  for (size_t j = 0; j < m; ++j) offset += windows[j];
  std::vector<LayerRange> r;
  for (int32_t c = 0; c < k; ++c) r.emplace_back(c * W + offset, c * W + offset + windows[m]);
  return r;
}

std::string RingPlan::describe() const {
  std::string w;
  for (size_t m = 0; m < windows.size(); ++m) w += fmt::format("{}{}", m ? "," : "", windows[m]);
  return fmt::format("k={}, windows {}", k, w);
}

RingPlan RingPlan::from_windows(int32_t n_layer, const std::vector<int32_t>& windows) {
  if (windows.empty()) fail("--layer-window: no windows given");
  for (size_t m = 0; m < windows.size(); ++m)
    if (windows[m] < 1) fail("--layer-window: window {} of device {} must be at least 1 layer", windows[m], m + 1);
  RingPlan p;
  p.n_layer = n_layer;
  p.windows = windows;
  const int32_t W = p.window_sum();
  if (W > n_layer || n_layer % W != 0)
    fail("--layer-window: the windows add up to {} layers per cycle, which does not divide the model's {} layers", W,
         n_layer);
  p.k = n_layer / W;
  return p;
}

RingPlan RingPlan::even(int32_t n_layer, int32_t n_devices) {
  if (n_devices < 1) fail("a ring needs at least one device");
  if (n_devices > n_layer)
    fail("{} devices cannot share {} layers: give each at least one (fewer --workers)", n_devices, n_layer);
  RingPlan p;
  p.n_layer = n_layer;
  p.k = 1;
  p.windows.assign(static_cast<size_t>(n_devices), n_layer / n_devices);
  for (int32_t m = 0; m < n_layer % n_devices; ++m) ++p.windows[static_cast<size_t>(m)];
  return p;
}

std::vector<int32_t> parse_int_list(const std::string& text, const std::string& flag) {
  std::vector<int32_t> out;
  size_t p = 0;
  while (p <= text.size()) {
    const size_t q = std::min(text.find(',', p), text.size());
    const std::string item = text.substr(p, q - p);
    int32_t v = 0;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
    if (item.empty() || ec != std::errc() || end != item.data() + item.size())
      fail("{}: '{}' is not a number (expected a comma-separated list such as 4,4,2)", flag, item);
    out.push_back(v);
    p = q + 1;
  }
  return out;
}

}  // namespace prima::runtime
