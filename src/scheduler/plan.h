// A plan: how many cycles (k), which devices, how many layers each computes per cycle (its window w_m) and how
// many of those run on its GPU (n_m), with the predicted token latency broken down by device and term.
// Made by Halda (scheduler/halda.h) or by evaluating any given assignment (scheduler/evaluate.h) with the
// same latency model (docs/scheduler.md).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace prima::scheduler {

struct PlanOptions {
  int n_ctx = 4096;              // KV cache reserved for this many tokens (every layer, on its device)
  int n_past = -1;               // cached positions one decode step attends to, for attention cost; -1: n_ctx / 2
  int n_ubatch = 512;            // tokens per prompt micro-batch: sizes the work buffers each device keeps
  std::vector<int> k_values;     // cycle counts to consider (each must divide n_layer); empty: every divisor
  bool device_selection = true;  // drop devices that slow the ring down
  bool overlap_disk = true;      // prefetch overlaps disk reads with the rest of the ring (docs/scheduler.md)
  // Per device, beyond weights, KV cache and work buffers: overhead_bytes + overhead_fraction of its RAM (memory
  // total; available when unknown) — the margin the runtime leaves (runtime/window_memory.cpp), so that what
  // Halda plans to keep resident is what the device keeps.
  uint64_t overhead_bytes = 8ull << 20;
  double overhead_fraction = 1.0 / 25;
  double max_ms_per_token = 60000;        // a plan slower than this is reported as infeasible
  double ilp_time_limit_ms = 250;         // per integer program (GLPK); the best solution found is kept
};

// Per-token latency terms, milliseconds.
struct Terms {
  double compute_ms = 0;  // FLOPs / throughput
  double memory_ms = 0;   // memory traffic time not hidden under compute (roofline excess)
  double disk_ms = 0;     // disk reads the ring waits for
  double comm_ms = 0;     // ring hops: k x (RTT + hidden bytes / bandwidth) per device
  double total() const { return compute_ms + memory_ms + disk_ms + comm_ms; }
  Terms& operator+=(const Terms& o) {
    compute_ms += o.compute_ms;
    memory_ms += o.memory_ms;
    disk_ms += o.disk_ms;
    comm_ms += o.comm_ms;
    return *this;
  }
};

// Windows and cycles, the input of evaluate(): devices in ring order, head last.
struct Assignment {
  int k = 1;
  std::vector<int> windows;     // w_m per device; 0 = not selected (the head must be selected)
  std::vector<int> gpu_layers;  // n_m per device (<= w_m); empty = none
};

struct DevicePlan {
  std::string name;
  bool selected = false;
  int window = 0;      // w_m: layers per cycle
  int gpu_layers = 0;  // n_m: of those, on the GPU
  int layers = 0;      // k * w_m: layers per token
  Terms terms;         // this device's share of the predicted latency (sums to the plan's total)
  double busy_ms = 0;  // compute + memory + every disk read, per token: must fit in the token time

  uint64_t weight_bytes = 0;       // CPU-side weights it touches per token (its layers, + output at the head)
  uint64_t kv_bytes = 0;           // KV cache in RAM at n_ctx
  uint64_t private_bytes = 0;      // KV cache + work buffers + overhead (memory the OS cannot reclaim)
  uint64_t page_cache_bytes = 0;   // memory left for weights (C)
  uint64_t pinned_bytes = 0;       // weights kept resident across tokens; the rest of C is the prefetch buffer
  uint64_t disk_bytes = 0;         // weights read from disk per token
  uint64_t inline_disk_bytes = 0;  // of which the ring waits for (no room or no time to prefetch them)
  uint64_t vram_bytes = 0;         // GPU memory used
};

struct Plan {
  int k = 0;
  int n_layer = 0;
  std::vector<DevicePlan> devices;  // input order (ring order, head last), selected or not
  double predicted_ms_per_token = 0;
  Terms terms;              // totals of the device terms
  double ring_ms = 0;       // the serial path: compute + memory + inline disk + hops
  double disk_wait_ms = 0;  // predicted - ring: the ring waits for the bottleneck device's disk
  int bottleneck = -1;      // the device whose busy time sets the latency; -1 when the ring does
  bool feasible = true;
  std::string infeasible_reason;  // when !feasible: which device needs more memory than it has, ...

  // Filled by Halda.
  std::vector<std::pair<int, double>> best_by_k;  // best predicted ms for each k tried (all device sets)
  int ilp_solves = 0;
  std::vector<std::string> notes;  // devices left out and why

  int n_selected() const {
    int n = 0;
    for (const auto& d : devices) n += d.selected ? 1 : 0;
    return n;
  }
};

// The layers device m computes for one token: in cycle c, [c W + offset_m, c W + offset_m + w_m), where
// W = sum of windows and offset_m the windows of the devices before m in ring order (head last). Empty for a
// device that is not selected.
inline std::vector<std::pair<int, int>> layer_ranges(const Plan& plan, size_t m) {
  std::vector<std::pair<int, int>> out;
  int W = 0, offset = 0;
  for (size_t j = 0; j < plan.devices.size(); ++j) {
    if (j < m) offset += plan.devices[j].window;
    W += plan.devices[j].window;
  }
  const int w = plan.devices[m].window;
  for (int c = 0; w > 0 && c < plan.k; ++c) out.emplace_back(c * W + offset, c * W + offset + w);
  return out;
}

}  // namespace prima::scheduler
