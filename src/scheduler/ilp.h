// Halda's integer program for one k and one set of devices, solved with GLPK (glp_intopt). The formulation
// is in docs/scheduler.md ("The integer program"); in short, with W = n_layer / k:
//
//   minimise T  over integers w_m >= 1, 0 <= n_m <= w_m (GPU devices) and reals p_m, d_m, i_m >= 0
//   sum_m w_m = W
//   C_m = A_m - f_m - k (w_m - n_m) kv_m,   R_m = k (w_m - n_m) b + e_m        (memory left, weights touched)
//   k n_m (b + kv_m) + f_gpu_m <= V_m                                        (GPU layers fit in VRAM)
//   p_m <= C_m,  p_m <= R_m                                                  (pinned bytes; C_m >= 0)
//   d_m >= (R_m - p_m) / s_m                                                 (disk reads per token)
//   i_m >= (R_m - p_m - k (C_m - p_m)) / s_m    [i_m >= d_m without overlap] (of which the ring waits for)
//   or, for a device that cannot stream (s_m = 0):  R_m <= C_m
//   T >= sum_m (k (w_m - n_m) a_m + k n_m g_m + i_m) + out + k sum_m h_m     (the ring's serial path)
//   T >= k (w_m - n_m) a_m + k n_m g_m + d_m (+ out at the head)             (each device's own work)
//
// where a_m = t_cpu + u_cpu and g_m = t_gpu + u_gpu per layer, out = t_out + u_out, h_m the hop (no hops
// when one device is selected). Every max(0, .) is convex and minimised, so the auxiliary variables make it
// exact: which devices overflow (the paper's device sets) and how much each pins is chosen by the solver in
// one solve instead of being iterated on.
#pragma once

#include <span>
#include <vector>

#include "scheduler/cost_model.h"

namespace prima::scheduler {

struct IlpSolution {
  bool feasible = false;
  bool optimal = false;  // false: the time limit stopped the search at a feasible solution
  double objective_ms = 0;
  std::vector<int> windows;  // per device of the cost model (0 for devices not in the set)
  std::vector<int> gpu_layers;
};

// `selected` holds device indices (ascending, the head included, at most W of them).
IlpSolution solve_ilp(const CostModel& cm, std::span<const int> selected, int k, double time_limit_ms);

}  // namespace prima::scheduler
