// Halda: the plan (k, windows w_m, GPU layers n_m, selected devices) that minimises the predicted token
// latency of a model on a cluster. Pure: no I/O. docs/scheduler.md has the model and the search:
//
//   for each candidate device set S (starting with every device that can hold one layer):
//     for each k dividing n_layer with n_layer / k >= |S|: solve the integer program (scheduler/ilp.h),
//       evaluate its solution with the latency model (scheduler/evaluate.h), keep the best k;
//   device selection: drop the devices whose window is the plan's minimum (all together, and each of the six
//     slowest of them alone), re-plan each candidate set, move to the best one, and repeat down to the head
//     alone; then add back, one at a time, left-out devices while that helps (the six most promising per
//     round). The best plan seen wins (ties: fewer devices, then smaller k).
#pragma once

#include <span>

#include "core/error.h"
#include "scheduler/device_profile.h"
#include "scheduler/model_stats.h"
#include "scheduler/plan.h"

namespace prima::scheduler {

inline constexpr int kMaxDevicesInPlan = 64;  // device sets are bit masks

// Devices in ring order, the head last. Status invalid with a message saying why when no plan exists: no
// assignment fits the devices' memory (KV cache at n_ctx, a cluster that cannot stream weights from disk),
// or the best plan is slower than options.max_ms_per_token (the disks cannot stream the overflow).
Result<Plan> halda(std::span<const DeviceProfile> devices, const ModelStats& model, const PlanOptions& options);

}  // namespace prima::scheduler
