#include "scheduler/evaluate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace prima::scheduler {
namespace {

Status check_assignment(const CostModel& cm, const Assignment& a) {
  const size_t n = cm.devices.size();
  if (a.k < 1 || a.k > cm.n_layer || cm.n_layer % a.k != 0)
    return Status::error(Status::Code::invalid, "k = {} does not divide the {} layers", a.k, cm.n_layer);
  if (a.windows.size() != n)
    return Status::error(Status::Code::invalid, "{} windows for {} devices", a.windows.size(), n);
  if (!a.gpu_layers.empty() && a.gpu_layers.size() != n)
    return Status::error(Status::Code::invalid, "{} gpu layer counts for {} devices", a.gpu_layers.size(), n);
  long sum = 0;
  for (size_t m = 0; m < n; ++m) {
    const int w = a.windows[m];
    const int g = a.gpu_layers.empty() ? 0 : a.gpu_layers[m];
    if (w < 0 || w > cm.n_layer)
      return Status::error(Status::Code::invalid, "window {} of device {} is out of range", w, m);
    if (g < 0 || g > w)
      return Status::error(Status::Code::invalid, "device {}: {} GPU layers in a window of {}", m, g, w);
    if (g > 0 && !cm.devices[m].gpu)
      return Status::error(Status::Code::invalid, "device {}: GPU layers on a device without a usable GPU", m);
    sum += w;
  }
  if (a.windows[static_cast<size_t>(cm.head)] < 1)
    return Status::error(Status::Code::invalid, "the head (last device) must have a window of at least 1");
  if (sum * a.k != cm.n_layer)
    return Status::error(Status::Code::invalid, "windows sum to {} and k = {}: {} layers, the model has {}", sum, a.k,
                         sum * a.k, cm.n_layer);
  return Status::ok();
}

uint64_t bytes(double b) { return b <= 0 ? 0 : static_cast<uint64_t>(std::llround(b)); }

// The token time T and each device's pinned bytes for fixed windows: the smallest T such that every device can
// read its non-pinned weights within T (busy: compute + D / s <= T) while the ring's serial path, with the
// inline reads this leaves, also fits (ring <= T). Pinning less lowers a device's inline reads and raises its
// total reads, so feasibility is monotone in T: bisection. The integer program reaches the same optimum by
// making the pinned bytes variables (scheduler/ilp.h); the tests compare the two.
struct PinSolution {
  double t_ms = 0;
  std::vector<double> pinned;
};

PinSolution solve_pins(const CostModel& cm, const Assignment& a, const std::vector<DeviceCost>& cost,
                       const std::vector<double>& comm_ms) {
  const size_t n = cost.size();
  PinSolution out;
  out.pinned.assign(n, 0);
  // Everything that fits stays; a device that cannot stream or cannot even hold its buffers pins what it can.
  std::vector<bool> free_choice(n, false);
  for (size_t m = 0; m < n; ++m) {
    if (a.windows[m] == 0) continue;
    const DeviceCost& c = cost[m];
    out.pinned[m] = std::max(0.0, std::min(c.page_cache_bytes, c.resident_bytes));
    free_choice[m] = !c.infeasible && c.resident_bytes > c.page_cache_bytes && cm.devices[m].disk_bytes_per_ms > 0;
  }
  auto ring_and_busy = [&](const std::vector<double>& pins) {
    double ring = 0, busy = 0;
    for (size_t m = 0; m < n; ++m) {
      if (a.windows[m] == 0) continue;
      const DiskReads r = disk_reads(cm, static_cast<int>(m), a.k, cost[m], pins[m]);
      const double own = cost[m].compute_ms + cost[m].memory_ms;
      ring += own + r.inline_ms + comm_ms[m];
      busy = std::max(busy, own + r.total_ms);
    }
    return std::pair{ring, busy};
  };
  // Pins for a target T: the least pinning that keeps each device's own work within T.
  std::vector<double> pins = out.pinned;
  auto fits = [&](double t) {
    for (size_t m = 0; m < n; ++m) {
      if (!free_choice[m]) continue;
      const DeviceCost& c = cost[m];
      const double spare_ms = t - c.compute_ms - c.memory_ms;
      const double p = std::max(0.0, c.resident_bytes - spare_ms * cm.devices[m].disk_bytes_per_ms);
      if (p > out.pinned[m]) return false;  // even pinning all it can, its reads take longer than t
      pins[m] = p;
    }
    return ring_and_busy(pins).first <= t;
  };
  const auto [ring_all_pinned, busy_all_pinned] = ring_and_busy(out.pinned);
  double hi = std::max(ring_all_pinned, busy_all_pinned), lo = 0;
  bool any_choice = false;
  for (bool f : free_choice) any_choice = any_choice || f;
  if (any_choice) {
    for (int it = 0; it < 200 && hi - lo > 1e-10 * hi; ++it) {
      const double mid = 0.5 * (lo + hi);
      (fits(mid) ? hi : lo) = mid;
    }
    if (fits(hi)) out.pinned = pins;
  }
  out.t_ms = hi;
  return out;
}

}  // namespace

Plan evaluate(const CostModel& cm, std::span<const DeviceProfile> devices, const Assignment& a) {
  PRIMA_ASSERT(check_assignment(cm, a).is_ok());
  PRIMA_ASSERT(devices.size() == cm.devices.size());
  const size_t n = devices.size();
  int n_selected = 0;
  for (int w : a.windows) n_selected += w > 0 ? 1 : 0;

  std::vector<DeviceCost> cost(n);
  std::vector<double> comm(n, 0);
  for (size_t m = 0; m < n; ++m) {
    if (a.windows[m] == 0) continue;
    cost[m] = device_cost(cm, static_cast<int>(m), a.k, a.windows[m], a.gpu_layers.empty() ? 0 : a.gpu_layers[m]);
    comm[m] = n_selected > 1 ? a.k * cm.devices[m].hop_ms : 0;
  }
  const PinSolution pins = solve_pins(cm, a, cost, comm);

  Plan p;
  p.k = a.k;
  p.n_layer = cm.n_layer;
  std::vector<double> busy(n, 0);
  for (size_t m = 0; m < n; ++m) {
    DevicePlan d;
    d.name = devices[m].name;
    d.window = a.windows[m];
    d.gpu_layers = a.gpu_layers.empty() ? 0 : a.gpu_layers[m];
    d.selected = d.window > 0;
    if (d.selected) {
      const DeviceCost& c = cost[m];
      const DiskReads r = disk_reads(cm, static_cast<int>(m), a.k, c, pins.pinned[m]);
      d.layers = a.k * d.window;
      d.terms.compute_ms = c.compute_ms;
      d.terms.memory_ms = c.memory_ms;
      d.terms.disk_ms = r.inline_ms;
      d.terms.comm_ms = comm[m];
      d.busy_ms = c.compute_ms + c.memory_ms + r.total_ms;
      d.weight_bytes = bytes(c.resident_bytes);
      d.kv_bytes = bytes(c.private_bytes - cm.devices[m].fixed_bytes);
      d.private_bytes = bytes(c.private_bytes);
      d.page_cache_bytes = bytes(c.page_cache_bytes);
      d.pinned_bytes = bytes(r.pinned);
      d.disk_bytes = bytes(r.total_bytes);
      d.inline_disk_bytes = bytes(r.inline_bytes);
      d.vram_bytes = bytes(c.vram_used);
      busy[m] = d.busy_ms;
      p.ring_ms += d.terms.total();
      if (c.infeasible && p.feasible) {
        p.feasible = false;
        p.infeasible_reason = fmt::format("device '{}' with {} layers: {}", d.name, d.layers, c.infeasible);
      }
    }
    p.devices.push_back(std::move(d));
  }

  // The token takes the longer of the ring's serial path and the busiest device's own work per token.
  p.predicted_ms_per_token = p.ring_ms;
  for (size_t m = 0; m < n; ++m) {
    if (busy[m] > p.predicted_ms_per_token) {
      p.predicted_ms_per_token = busy[m];
      p.bottleneck = static_cast<int>(m);
    }
  }
  if (p.predicted_ms_per_token - p.ring_ms <= 1e-7 * p.predicted_ms_per_token) {  // bisection rounding, not a wait
    p.predicted_ms_per_token = p.ring_ms;
    p.bottleneck = -1;
  }
  p.disk_wait_ms = p.predicted_ms_per_token - p.ring_ms;
  if (p.bottleneck >= 0) p.devices[static_cast<size_t>(p.bottleneck)].terms.disk_ms += p.disk_wait_ms;
  for (const auto& d : p.devices) p.terms += d.terms;
  return p;
}

Result<Plan> evaluate(std::span<const DeviceProfile> devices, const ModelStats& model, const Assignment& a,
                      const PlanOptions& options) {
  auto cm = CostModel::build(devices, model, options);
  if (!cm) return cm.status();
  if (Status s = check_assignment(*cm, a); !s) return s;
  return evaluate(*cm, devices, a);
}

Assignment even_split(int n_devices, int n_layer, int k) {
  PRIMA_ASSERT(n_devices >= 1 && k >= 1 && n_layer % k == 0);
  Assignment a;
  a.k = k;
  const int W = n_layer / k;
  a.windows.assign(static_cast<size_t>(n_devices), W / n_devices);
  for (int r = 0; r < W % n_devices; ++r) ++a.windows[static_cast<size_t>(n_devices - 1 - r)];
  return a;
}

Assignment memory_proportional_split(std::span<const DeviceProfile> devices, int n_layer, int k) {
  PRIMA_ASSERT(!devices.empty() && k >= 1 && n_layer % k == 0);
  const int n = static_cast<int>(devices.size());
  const int W = n_layer / k;
  double total = 0;
  for (const auto& d : devices) total += static_cast<double>(d.memory_available);
  if (total <= 0) return even_split(n, n_layer, k);

  Assignment a;
  a.k = k;
  a.windows.assign(static_cast<size_t>(n), 0);
  std::vector<std::pair<double, int>> remainders;
  int given = 0;
  for (int m = 0; m < n; ++m) {
    const double share = W * static_cast<double>(devices[static_cast<size_t>(m)].memory_available) / total;
    a.windows[static_cast<size_t>(m)] = static_cast<int>(std::floor(share));
    given += a.windows[static_cast<size_t>(m)];
    remainders.emplace_back(share - std::floor(share), m);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& x, const auto& y) { return x.first > y.first; });
  for (int r = 0; given < W; ++r, ++given) ++a.windows[static_cast<size_t>(remainders[static_cast<size_t>(r)].second)];
  auto& head = a.windows.back();
  if (head == 0) {  // the head always computes: take a layer from the largest window
    ++head;
    --*std::max_element(a.windows.begin(), a.windows.end() - 1);
  }
  return a;
}

std::vector<int> divisors(int n_layer) {
  std::vector<int> out;
  for (int k = 1; k <= n_layer; ++k)
    if (n_layer % k == 0) out.push_back(k);
  return out;
}

}  // namespace prima::scheduler
