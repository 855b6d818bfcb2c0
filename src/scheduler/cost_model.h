// The latency model's coefficients: what one layer costs on each device, how much memory a device has left
// for weights, how fast it re-reads what does not fit, what a ring hop costs. Computed once per (cluster,
// model, options) and shared by the integer program (scheduler/ilp.h) and the evaluator
// (scheduler/evaluate.h), so Halda optimises exactly what evaluate() predicts. docs/scheduler.md names every
// term; the names below are the same.
#pragma once

#include <span>
#include <vector>

#include "core/error.h"
#include "scheduler/device_profile.h"
#include "scheduler/model_stats.h"
#include "scheduler/plan.h"

namespace prima::scheduler {

struct DeviceCoeffs {
  // Per layer per token, milliseconds (the model's mean layer).
  double cpu_compute_ms = 0;  // t_cpu: sum over weight types of FLOPs / CPU FLOP/s, + attention
  double cpu_memory_ms = 0;   // u_cpu: max(0, bytes read / memory bandwidth - t_cpu)
  double gpu_compute_ms = 0;  // t_gpu, u_gpu: the same on the GPU
  double gpu_memory_ms = 0;
  bool gpu = false;  // can take GPU layers (n_m)

  // Head only, per token: the output layer (and the embedding row).
  double head_compute_ms = 0;  // t_out
  double head_memory_ms = 0;   // u_out

  // Bytes.
  double layer_bytes = 0;  // b: weights of one layer
  double kv_bytes = 0;     // kv: KV cache of one layer at n_ctx
  double extra_bytes = 0;  // e: resident every token besides layers (output layer at the head, other tensors)
  double fixed_bytes = 0;  // f: work buffers + overhead (private)
  double avail_bytes = 0;  // A: available memory
  double vram_bytes = 0;   // V: GPU memory
  double gpu_fixed_bytes = 0;

  double disk_bytes_per_ms = 0;  // s: overflow re-read speed by OS (0: cannot stream weights)
  double hop_ms = 0;             // h: RTT + hidden state / bandwidth, on the link to the next device
};

struct CostModel {
  std::vector<DeviceCoeffs> devices;  // ring order
  int head = 0;                       // index of the head (the last device)
  int n_layer = 0;
  bool overlap_disk = true;

  // Fails (Status invalid) when a device lacks a throughput for a weight type the model uses, or the model
  // or options are unusable (no layers, n_ctx < 1).
  static Result<CostModel> build(std::span<const DeviceProfile> devices, const ModelStats& model,
                                 const PlanOptions& options);
};

// One device's share for a given k, window w and GPU layers n, before its disk reads are decided.
struct DeviceCost {
  double compute_ms = 0, memory_ms = 0;  // k (w - n) (t_cpu, u_cpu) + k n (t_gpu, u_gpu) (+ t_out, u_out)
  double private_bytes = 0;              // P_priv = k (w - n) kv + f
  double page_cache_bytes = 0;           // C = A - P_priv: memory left for weights
  double resident_bytes = 0;             // R = k (w - n) b + e: weights touched per token
  double vram_used = 0;
  const char* infeasible = nullptr;  // why this share cannot run, or nullptr
};

DeviceCost device_cost(const CostModel& cm, int m, int k, int window, int gpu_layers);

// Disk reads per token when the device keeps `pinned` bytes of its weights resident across tokens
// (0 <= pinned <= min(C, R)) and streams the rest through the remaining C - pinned bytes, prefetching the
// next window while the rest of the ring works (docs/scheduler.md, "Disk"):
//   D = R - pinned                                  bytes read per token
//   I = max(0, D - k (C - pinned))                  of which read inline (the ring waits); I = D without overlap
struct DiskReads {
  double pinned = 0;
  double total_bytes = 0, inline_bytes = 0;  // D, I
  double total_ms = 0, inline_ms = 0;        // D / s, I / s
};
DiskReads disk_reads(const CostModel& cm, int m, int k, const DeviceCost& c, double pinned);

}  // namespace prima::scheduler
