#include "scheduler/cost_model.h"

#include <algorithm>
#include <string>

namespace prima::scheduler {
namespace {

// FLOP/s for attention (f16 K/V, f32 scores): an F16 entry, else F32, else "*", else the slowest listed.
double attention_throughput(const TypeThroughput& t) {
  for (const char* k : {"F16", "F32", "*"})
    if (auto it = t.find(std::string_view(k)); it != t.end()) return it->second;
  double slowest = 0;
  for (const auto& [k, v] : t) slowest = slowest == 0 ? v : std::min(slowest, v);
  return slowest;
}

// Milliseconds for `flops_by_type` on a processor with throughput `t`; nullopt names the missing type.
Result<double> matmul_ms(const std::map<std::string, double>& flops_by_type, const TypeThroughput& t,
                         const std::string& device, const char* what) {
  double ms = 0;
  for (const auto& [type, flops] : flops_by_type) {
    if (flops <= 0) continue;
    const auto thr = throughput_for(t, type);
    if (!thr) {
      std::string used;
      for (const auto& [ty, f] : flops_by_type) used += (used.empty() ? "" : ", ") + ty;
      return Status::error(Status::Code::invalid,
                           "device '{}': {} has no throughput for {} (the model computes with {}); add it, or a "
                           "\"*\" entry for any type",
                           device, what, type, used);
    }
    ms += flops / *thr * 1e3;
  }
  return ms;
}

// Roofline excess: the part of the memory traffic time not hidden under compute.
double memory_excess_ms(double bytes, double bandwidth, double compute_ms) {
  if (bandwidth <= 0) return 0;
  return std::max(0.0, bytes / bandwidth * 1e3 - compute_ms);
}

}  // namespace

Result<CostModel> CostModel::build(std::span<const DeviceProfile> devices, const ModelStats& model,
                                   const PlanOptions& o) {
  if (devices.empty()) return Status::error(Status::Code::invalid, "no devices");
  if (model.n_layer <= 0 || static_cast<int>(model.layers.size()) != model.n_layer)
    return Status::error(Status::Code::invalid, "model '{}' has no layers to plan", model.name);
  if (o.n_ctx < 1) return Status::error(Status::Code::invalid, "n_ctx must be >= 1 (got {})", o.n_ctx);
  const int n_past = o.n_past < 0 ? o.n_ctx / 2 : std::min(o.n_past, o.n_ctx);

  CostModel cm;
  cm.head = static_cast<int>(devices.size()) - 1;
  cm.n_layer = model.n_layer;
  cm.overlap_disk = o.overlap_disk;
  const LayerStats layer = model.mean_layer();
  const double kv_read = static_cast<double>(model.kv_bytes_per_token_per_layer) * n_past;
  const double attn_flops = model.attn_flops_per_token_per_layer_per_pos * n_past;

  for (size_t i = 0; i < devices.size(); ++i) {
    const DeviceProfile& d = devices[i];
    const bool head = static_cast<int>(i) == cm.head;
    DeviceCoeffs c;

    auto cpu = matmul_ms(layer.flops_by_type, d.cpu_decode_flops, d.name, "cpu.decode");
    if (!cpu) return cpu.status();
    const double cpu_attn = attention_throughput(d.cpu_decode_flops);
    c.cpu_compute_ms = *cpu + (cpu_attn > 0 ? attn_flops / cpu_attn * 1e3 : 0);
    c.cpu_memory_ms =
        memory_excess_ms(static_cast<double>(layer.bytes) + kv_read, d.memory_read_bandwidth, c.cpu_compute_ms);

    if (d.gpu.usable()) {
      auto gpu = matmul_ms(layer.flops_by_type, d.gpu.decode_flops, d.name, "gpu.decode");
      if (!gpu) return gpu.status();
      const double gpu_attn = attention_throughput(d.gpu.decode_flops);
      c.gpu = true;
      c.gpu_compute_ms = *gpu + (gpu_attn > 0 ? attn_flops / gpu_attn * 1e3 : 0);
      c.gpu_memory_ms =
          memory_excess_ms(static_cast<double>(layer.bytes) + kv_read, d.gpu.read_bandwidth, c.gpu_compute_ms);
      c.vram_bytes = static_cast<double>(d.gpu.vram_bytes);
      c.gpu_fixed_bytes = static_cast<double>(model.work_bytes(o.n_ctx, false, o.n_ubatch));
    }

    if (head) {
      auto out = matmul_ms(model.output_flops_by_type, d.cpu_decode_flops, d.name, "cpu.decode");
      if (!out) return out.status();
      c.head_compute_ms = *out;
      c.head_memory_ms = memory_excess_ms(static_cast<double>(model.output_bytes), d.memory_read_bandwidth, *out);
    }

    c.layer_bytes = static_cast<double>(layer.bytes);
    c.kv_bytes = static_cast<double>(model.kv_bytes_per_token_per_layer) * o.n_ctx;
    c.extra_bytes = static_cast<double>(model.other_bytes) +
                    (head ? static_cast<double>(model.output_bytes + model.input_row_bytes) : 0.0);
    const uint64_t ram = d.memory_total > 0 ? d.memory_total : d.memory_available;
    c.fixed_bytes = static_cast<double>(model.work_bytes(o.n_ctx, head, o.n_ubatch) + o.overhead_bytes) +
                    o.overhead_fraction * static_cast<double>(ram);
    c.avail_bytes = static_cast<double>(d.memory_available);
    c.disk_bytes_per_ms = d.overflow_read_speed() / 1e3;
    c.hop_ms = d.link.rtt * 1e3 +
               (d.link.bandwidth > 0 ? static_cast<double>(model.hidden_bytes_per_token) / d.link.bandwidth * 1e3 : 0);
    cm.devices.push_back(c);
  }
  return cm;
}

DeviceCost device_cost(const CostModel& cm, int m, int k, int window, int gpu_layers) {
  const DeviceCoeffs& c = cm.devices[static_cast<size_t>(m)];
  const bool head = m == cm.head;
  const double l_cpu = static_cast<double>(k) * (window - gpu_layers), l_gpu = static_cast<double>(k) * gpu_layers;
  DeviceCost r;
  r.compute_ms = l_cpu * c.cpu_compute_ms + l_gpu * c.gpu_compute_ms + (head ? c.head_compute_ms : 0);
  r.memory_ms = l_cpu * c.cpu_memory_ms + l_gpu * c.gpu_memory_ms + (head ? c.head_memory_ms : 0);
  r.private_bytes = l_cpu * c.kv_bytes + c.fixed_bytes;
  r.page_cache_bytes = c.avail_bytes - r.private_bytes;
  r.resident_bytes = l_cpu * c.layer_bytes + c.extra_bytes;
  if (gpu_layers > 0) r.vram_used = l_gpu * (c.layer_bytes + c.kv_bytes) + c.gpu_fixed_bytes;

  if (r.page_cache_bytes < 0) {
    r.infeasible = "its KV cache and work buffers need more memory than it has";
  } else if (gpu_layers > 0 && (!c.gpu || r.vram_used > c.vram_bytes)) {
    r.infeasible = c.gpu ? "its GPU layers need more VRAM than it has" : "it has no usable GPU";
  } else if (r.resident_bytes > r.page_cache_bytes && c.disk_bytes_per_ms <= 0) {
    r.infeasible = "its weights do not fit in memory and it cannot stream from disk (no disk read speed)";
  }
  return r;
}

DiskReads disk_reads(const CostModel& cm, int m, int k, const DeviceCost& c, double pinned) {
  const double s = cm.devices[static_cast<size_t>(m)].disk_bytes_per_ms;
  DiskReads r;
  r.pinned = pinned;
  r.total_bytes = std::max(0.0, c.resident_bytes - pinned);
  r.inline_bytes = cm.overlap_disk ? std::max(0.0, r.total_bytes - k * (c.page_cache_bytes - pinned)) : r.total_bytes;
  if (s > 0) {
    r.total_ms = r.total_bytes / s;
    r.inline_ms = r.inline_bytes / s;
  }
  return r;
}

}  // namespace prima::scheduler
