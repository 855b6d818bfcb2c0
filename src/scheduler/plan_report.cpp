#include "scheduler/plan_report.h"

#include <fmt/format.h>

#include <cmath>

#include "core/format.h"

namespace prima::scheduler {
namespace {

double round3(double v) { return std::round(v * 1e3) / 1e3; }

}  // namespace

nlohmann::json plan_to_json(const Plan& p) {
  using json = nlohmann::json;
  json j;
  j["k"] = p.k;
  j["n_layer"] = p.n_layer;
  j["predicted_ms_per_token"] = round3(p.predicted_ms_per_token);
  j["breakdown"] = {
      {"compute_ms", round3(p.terms.compute_ms)},
      {"memory_ms", round3(p.terms.memory_ms)},
      {"disk_ms", round3(p.terms.disk_ms)},
      {"comm_ms", round3(p.terms.comm_ms)},
      {"ring_ms", round3(p.ring_ms)},
      {"disk_wait_ms", round3(p.disk_wait_ms)},
      {"bottleneck", p.bottleneck >= 0 ? json(p.devices[static_cast<size_t>(p.bottleneck)].name) : json(nullptr)},
  };
  j["devices"] = json::array();
  for (const auto& d : p.devices) {
    j["devices"].push_back({
        {"name", d.name},
        {"selected", d.selected},
        {"window", d.window},
        {"gpu_layers", d.gpu_layers},
        {"layers", d.layers},
        {"compute_ms", round3(d.terms.compute_ms)},
        {"memory_ms", round3(d.terms.memory_ms)},
        {"disk_ms", round3(d.terms.disk_ms)},
        {"comm_ms", round3(d.terms.comm_ms)},
        {"busy_ms", round3(d.busy_ms)},
        {"weight_bytes", d.weight_bytes},
        {"kv_bytes", d.kv_bytes},
        {"private_bytes", d.private_bytes},
        {"page_cache_bytes", d.page_cache_bytes},
        {"pinned_bytes", d.pinned_bytes},
        {"disk_bytes_per_token", d.disk_bytes},
        {"inline_disk_bytes_per_token", d.inline_disk_bytes},
        {"vram_bytes", d.vram_bytes},
    });
  }
  j["by_k"] = json::array();
  for (const auto& [k, ms] : p.best_by_k) j["by_k"].push_back({{"k", k}, {"predicted_ms_per_token", round3(ms)}});
  j["notes"] = p.notes;
  return j;
}

std::string plan_table(const Plan& p) {
  std::string s;
  const double tps = p.predicted_ms_per_token > 0 ? 1e3 / p.predicted_ms_per_token : 0;
  s += fmt::format("plan: k = {} cycle{}, {} of {} devices, predicted {:.1f} ms/token ({:.2f} tokens/s)\n", p.k,
                   p.k == 1 ? "" : "s", p.n_selected(), p.devices.size(), p.predicted_ms_per_token, tps);
  s += fmt::format("      compute {:.1f} ms + memory {:.1f} ms + disk {:.1f} ms + network {:.1f} ms",
                   p.terms.compute_ms, p.terms.memory_ms, p.terms.disk_ms, p.terms.comm_ms);
  if (p.bottleneck >= 0)
    s += fmt::format("; the ring waits {:.1f} ms for {}'s disk", p.disk_wait_ms,
                     p.devices[static_cast<size_t>(p.bottleneck)].name);
  s += "\n\n";
  s += fmt::format("{:<16} {:>6} {:>6} {:>4} {:>11} {:>11} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "device", "window",
                   "layers", "gpu", "page cache", "pinned", "disk/token", "compute", "memory", "disk", "network",
                   "busy");
  for (const auto& d : p.devices) {
    if (!d.selected) {
      s += fmt::format("{:<16} {:>6}   (not selected)\n", d.name, 0);
      continue;
    }
    s += fmt::format(
        "{:<16} {:>6} {:>6} {:>4} {:>11} {:>11} {:>11} {:>7.1f}ms {:>7.1f}ms {:>7.1f}ms {:>7.1f}ms {:>7.1f}ms\n",
        d.name, d.window, d.layers, d.gpu_layers, format_bytes(d.page_cache_bytes), format_bytes(d.pinned_bytes),
        format_bytes(d.disk_bytes), d.terms.compute_ms, d.terms.memory_ms, d.terms.disk_ms, d.terms.comm_ms, d.busy_ms);
  }
  if (!p.best_by_k.empty()) {
    s += "\nbest per k:";
    for (const auto& [k, ms] : p.best_by_k) s += fmt::format("  k={} {:.1f} ms", k, ms);
    s += "\n";
  }
  for (const auto& n : p.notes) s += "note: " + n + "\n";
  return s;
}

}  // namespace prima::scheduler
