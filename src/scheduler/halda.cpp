#include "scheduler/halda.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <map>
#include <optional>

#include "core/format.h"
#include "scheduler/evaluate.h"
#include "scheduler/ilp.h"

namespace prima::scheduler {
namespace {

using Mask = uint64_t;  // a device set; kMaxDevices <= 64

// a better than b: lower latency; near-ties go to fewer devices, then to fewer cycles.
bool better(const Plan& a, const Plan& b) {
  const double eps = 1e-9 * std::max(1.0, b.predicted_ms_per_token);
  if (a.predicted_ms_per_token < b.predicted_ms_per_token - eps) return true;
  if (a.predicted_ms_per_token > b.predicted_ms_per_token + eps) return false;
  if (a.n_selected() != b.n_selected()) return a.n_selected() < b.n_selected();
  return a.k < b.k;
}

class Search {
 public:
  Search(const CostModel& cm, std::span<const DeviceProfile> devices, std::vector<int> ks, const PlanOptions& o)
      : cm_(cm), devices_(devices), ks_(std::move(ks)), o_(o) {}

  // The best plan over every k for the set, or nullopt if no k fits. Cached by set.
  const std::optional<Plan>& solve(Mask set) {
    if (auto it = cache_.find(set); it != cache_.end()) return it->second;
    std::vector<int> sel;
    double hops = 0;
    for (int m = 0; m < static_cast<int>(devices_.size()); ++m)
      if (set >> m & 1) {
        sel.push_back(m);
        hops += cm_.devices[static_cast<size_t>(m)].hop_ms;
      }
    std::optional<Plan> best;
    for (int k : ks_) {
      if (cm_.n_layer / k < static_cast<int>(sel.size())) continue;
      // Lower bound: the hops alone grow with k; once they exceed this set's best plan, larger k cannot win.
      if (sel.size() > 1 && best && k * hops >= best->predicted_ms_per_token) break;
      const IlpSolution s = solve_ilp(cm_, sel, k, o_.ilp_time_limit_ms);
      ++solves_;
      if (!s.feasible) continue;
      Plan p = evaluate(cm_, devices_, Assignment{k, s.windows, s.gpu_layers});
      if (!p.feasible) continue;  // cannot happen: the ILP holds the same constraints
      auto& bk = best_by_k_[k];
      bk = bk == 0 ? p.predicted_ms_per_token : std::min(bk, p.predicted_ms_per_token);
      if (!best || better(p, *best)) best = std::move(p);
    }
    if (best && (!best_ || better(*best, *best_))) best_ = best;
    return cache_[set] = std::move(best);
  }

  const std::optional<Plan>& best() const { return best_; }
  int solves() const { return solves_; }
  const std::map<int, double>& best_by_k() const { return best_by_k_; }

 private:
  const CostModel& cm_;
  std::span<const DeviceProfile> devices_;
  std::vector<int> ks_;
  const PlanOptions& o_;
  std::map<Mask, std::optional<Plan>> cache_;
  std::optional<Plan> best_;
  std::map<int, double> best_by_k_;
  int solves_ = 0;
};

constexpr size_t kMaxSingleDrops = 6;
constexpr int kMaxAddRounds = 8;

// What one more layer and one more hop cost on device m: "slowest" for device selection.
double layer_cost(const CostModel& cm, int m) {
  const DeviceCoeffs& c = cm.devices[static_cast<size_t>(m)];
  const double disk = c.disk_bytes_per_ms > 0 ? c.layer_bytes / c.disk_bytes_per_ms : 1e12;
  return c.cpu_compute_ms + c.cpu_memory_ms + c.hop_ms + disk;
}

// Device selection: from `set`, repeatedly drop the devices whose window is the minimum (together, and each
// alone), move to the best resulting set, down to the head alone. Search keeps the best plan seen.
void select_devices(Search& search, const CostModel& cm, Mask set, int head) {
  const Mask head_bit = Mask{1} << head;
  while (set != head_bit) {
    // More devices than layers: no k gives each one a layer. Drop the slowest per layer until it can.
    if (std::popcount(set) > cm.n_layer) {
      int slowest = -1;
      double worst = -1;
      for (int m = 0; m < static_cast<int>(cm.devices.size()); ++m) {
        const double cost = layer_cost(cm, m);
        if (m != head && (set >> m & 1) && cost > worst) {
          worst = cost;
          slowest = m;
        }
      }
      set &= ~(Mask{1} << slowest);
      continue;
    }
    const std::optional<Plan>& current = search.solve(set);
    std::vector<int> drop;
    if (current) {
      int min_w = std::numeric_limits<int>::max();
      for (const auto& d : current->devices)
        if (d.selected) min_w = std::min(min_w, d.window);
      for (int m = 0; m < static_cast<int>(current->devices.size()); ++m)
        if (m != head && current->devices[static_cast<size_t>(m)].selected &&
            current->devices[static_cast<size_t>(m)].window == min_w)
          drop.push_back(m);
    }
    if (drop.empty())  // no plan for this set (or only the head at the minimum): try without each device
      for (int m = 0; m < 64; ++m)
        if (m != head && (set >> m & 1)) drop.push_back(m);

    // Candidate sets: without all of them, and without each of the slowest few alone (every one of them would
    // make a 64-device search quadratic in ILP solves).
    Mask all = set;
    for (int m : drop) all &= ~(Mask{1} << m);
    std::sort(drop.begin(), drop.end(), [&](int x, int y) { return layer_cost(cm, x) > layer_cost(cm, y); });
    if (drop.size() > kMaxSingleDrops) drop.resize(kMaxSingleDrops);
    std::vector<Mask> options;
    for (int m : drop) options.push_back(set & ~(Mask{1} << m));
    if (all != options.back()) options.push_back(all);

    std::optional<Mask> next;
    const Plan* next_plan = nullptr;
    for (Mask opt : options) {
      const std::optional<Plan>& p = search.solve(opt);
      if (p && (!next_plan || better(*p, *next_plan))) {
        next = opt;
        next_plan = &*p;
      }
    }
    if (!next) {
      if (drop.size() == 1 || !current) break;
      next = options.back();  // nothing plannable one device at a time: drop all of them and go on
    }
    set = *next;
  }
}

// Local search after the drop chain: add back, one at a time, the devices the best plan leaves out (the most
// promising few first) while that improves it. The chain drops devices in groups and never reconsiders.
void add_back(Search& search, const CostModel& cm, Mask eligible) {
  for (int round = 0; round < kMaxAddRounds && search.best(); ++round) {
    Mask best_set = 0;
    for (int m = 0; m < static_cast<int>(cm.devices.size()); ++m)
      if (search.best()->devices[static_cast<size_t>(m)].selected) best_set |= Mask{1} << m;
    std::vector<int> out;
    for (int m = 0; m < static_cast<int>(cm.devices.size()); ++m)
      if ((eligible >> m & 1) && !(best_set >> m & 1)) out.push_back(m);
    std::sort(out.begin(), out.end(), [&](int x, int y) { return layer_cost(cm, x) < layer_cost(cm, y); });
    if (out.size() > kMaxSingleDrops) out.resize(kMaxSingleDrops);
    const double before = search.best()->predicted_ms_per_token;
    for (int m : out) search.solve(best_set | Mask{1} << m);
    if (search.best()->predicted_ms_per_token >= before) return;
  }
}

// Coefficients that can only matter in plans slower than the limit are cut out before the search: a disk so
// slow that re-reading one layer exceeds the limit counts as no disk (the device must hold what it touches),
// a GPU slower than the limit per layer as no GPU. Plans are unchanged (such reads or layers could never be in
// a usable plan) and GLPK never sees coefficients spanning fifteen orders of magnitude.
const CostModel& screen(CostModel& cm, std::span<const DeviceProfile> devices, const PlanOptions& o,
                        std::vector<std::string>& notes) {
  for (size_t m = 0; m < cm.devices.size(); ++m) {
    DeviceCoeffs& c = cm.devices[m];
    if (c.disk_bytes_per_ms > 0 && c.layer_bytes / c.disk_bytes_per_ms > o.max_ms_per_token) {
      c.disk_bytes_per_ms = 0;
      notes.push_back(fmt::format("{}: its disk is too slow to stream weights; planned without it", devices[m].name));
    }
    if (c.gpu && c.gpu_compute_ms + c.gpu_memory_ms > o.max_ms_per_token) c.gpu = false;
  }
  return cm;
}

// A device that cannot take part in any plan faster than the limit: one layer, or (not being the head) one
// hop, takes longer than the limit.
bool too_slow(const CostModel& cm, int m, const PlanOptions& o) {
  const DeviceCoeffs& c = cm.devices[static_cast<size_t>(m)];
  const bool layer_too_slow = c.cpu_compute_ms + c.cpu_memory_ms > o.max_ms_per_token &&
                              !(c.gpu && c.gpu_compute_ms + c.gpu_memory_ms <= o.max_ms_per_token);
  return layer_too_slow || (m != cm.head && c.hop_ms > o.max_ms_per_token);
}

std::string diagnose_infeasible(const CostModel& cm, std::span<const DeviceProfile> devices, const ModelStats& model,
                                const PlanOptions& o) {
  double free_for_kv = 0, avail = 0;
  bool any_disk = false;
  for (const auto& c : cm.devices) {
    free_for_kv += std::max(0.0, c.avail_bytes - c.fixed_bytes);
    avail += c.avail_bytes;
    any_disk = any_disk || c.disk_bytes_per_ms > 0;
  }
  const double kv_all = static_cast<double>(model.kv_bytes_per_token_per_layer) * o.n_ctx * model.n_layer;
  if (kv_all > free_for_kv)
    return fmt::format(
        "the KV cache for n_ctx = {} needs {} across the model's {} layers, but the {} devices have only {} left "
        "after work buffers: lower --n-ctx",
        o.n_ctx, format_bytes(static_cast<uint64_t>(kv_all)), model.n_layer, devices.size(),
        format_bytes(static_cast<uint64_t>(free_for_kv)));
  const double need = static_cast<double>(model.weight_bytes) + kv_all;
  if (!any_disk)
    return fmt::format(
        "the model needs {} of memory (weights and KV cache at n_ctx = {}) but the cluster has {} available, and "
        "no device can stream weights from disk (no disk read speed in the profiles)",
        format_bytes(static_cast<uint64_t>(need)), o.n_ctx, format_bytes(static_cast<uint64_t>(avail)));
  return fmt::format(
      "no assignment of the {} layers fits the devices' memory (KV cache at n_ctx = {} and work buffers on each "
      "device; devices without a disk read speed must hold all their layers)",
      model.n_layer, o.n_ctx);
}

}  // namespace

Result<Plan> halda(std::span<const DeviceProfile> devices, const ModelStats& model, const PlanOptions& o) {
  if (devices.size() > static_cast<size_t>(kMaxDevicesInPlan))
    return Status::error(Status::Code::invalid, "{} devices: at most {} can be planned", devices.size(),
                         kMaxDevicesInPlan);
  auto built = CostModel::build(devices, model, o);
  if (!built) return built.status();
  std::vector<std::string> notes;
  const CostModel& cm = screen(*built, devices, o, notes);
  const int L = cm.n_layer, head = cm.head;

  std::vector<int> ks = o.k_values.empty() ? divisors(L) : o.k_values;
  std::sort(ks.begin(), ks.end());
  ks.erase(std::unique(ks.begin(), ks.end()), ks.end());
  for (int k : ks)
    if (k < 1 || k > L || L % k != 0)
      return Status::error(Status::Code::invalid, "k = {} does not divide the model's {} layers (try one of {})", k, L,
                           fmt::join(divisors(L), ", "));

  // Devices that cannot hold even one layer (KV cache, buffers, or no disk to stream from) never join, nor do
  // devices too slow for any usable plan.
  Mask eligible = 0;
  for (int m = 0; m < static_cast<int>(devices.size()); ++m) {
    if (too_slow(cm, m, o)) {
      const DeviceCoeffs& c = cm.devices[static_cast<size_t>(m)];
      const std::string why =
          fmt::format("one layer takes {:.1f} s and a hop {:.1f} s, more than the limit of {:.1f} s/token",
                      (c.cpu_compute_ms + c.cpu_memory_ms) / 1e3, c.hop_ms / 1e3, o.max_ms_per_token / 1e3);
      if (m == head && c.cpu_compute_ms + c.cpu_memory_ms > o.max_ms_per_token)
        return Status::error(Status::Code::invalid, "the head '{}' is too slow: {}",
                             devices[static_cast<size_t>(m)].name, why);
      if (m != head) {
        notes.push_back(fmt::format("{}: left out, too slow: {}", devices[static_cast<size_t>(m)].name, why));
        continue;
      }
    }
    const DeviceCost c = device_cost(cm, m, 1, 1, 0);
    const bool gpu_ok = cm.devices[static_cast<size_t>(m)].gpu && !device_cost(cm, m, 1, 1, 1).infeasible;
    if (!c.infeasible || gpu_ok) {
      eligible |= Mask{1} << m;
    } else if (m == head) {
      const DeviceCoeffs& hc = cm.devices[static_cast<size_t>(m)];
      return Status::error(
          Status::Code::invalid,
          "the head '{}' cannot run even one layer: {} (one layer's KV cache at n_ctx = {}: {}, work "
          "buffers and overhead: {}, output layer: {}, available: {}); lower --n-ctx or use a "
          "bigger head",
          devices[static_cast<size_t>(m)].name, c.infeasible, o.n_ctx, format_bytes(static_cast<uint64_t>(hc.kv_bytes)),
          format_bytes(static_cast<uint64_t>(hc.fixed_bytes)), format_bytes(static_cast<uint64_t>(hc.extra_bytes)),
          format_bytes(static_cast<uint64_t>(hc.avail_bytes)));
    } else {
      notes.push_back(fmt::format("{}: left out, cannot run even one layer: {}", devices[static_cast<size_t>(m)].name,
                                  c.infeasible));
    }
  }

  Search search(cm, devices, ks, o);
  search.solve(eligible);
  if (!o.device_selection && std::popcount(eligible) > L)
    return Status::error(Status::Code::invalid,
                         "the model has {} layers and {} devices would each need at least one: enable device "
                         "selection or list fewer devices",
                         L, std::popcount(eligible));
  if (o.device_selection) {
    select_devices(search, cm, eligible, head);
    add_back(search, cm, eligible);
  }

  if (!search.best())
    return Status::error(Status::Code::invalid, "no plan: {}", diagnose_infeasible(cm, devices, model, o));
  Plan plan = *search.best();
  if (plan.predicted_ms_per_token > o.max_ms_per_token) {
    uint64_t disk = 0;
    for (const auto& d : plan.devices) disk += d.disk_bytes;
    return Status::error(
        Status::Code::invalid,
        "no usable plan: the best one (k = {}, {} devices) predicts {:.1f} s/token, above the limit of "
        "{:.1f} s/token: the devices' disks cannot stream the {} per token that do not fit in their "
        "memory fast enough (add memory or devices, or lower n_ctx)",
        plan.k, plan.n_selected(), plan.predicted_ms_per_token / 1e3, o.max_ms_per_token / 1e3, format_bytes(disk));
  }
  for (const auto& d : plan.devices)
    if (!d.selected && (eligible >> (&d - plan.devices.data()) & 1))
      notes.push_back(fmt::format("{}: not selected, the plan is faster without it", d.name));
  plan.notes = std::move(notes);
  plan.best_by_k.assign(search.best_by_k().begin(), search.best_by_k().end());
  plan.ilp_solves = search.solves();
  return plan;
}

}  // namespace prima::scheduler
