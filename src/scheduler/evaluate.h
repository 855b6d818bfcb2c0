// The predicted token latency of ANY assignment (k and windows), with the same model Halda optimises: to
// compare Halda's plan with an even or a memory-proportional split, and predicted with measured latency.
#pragma once

#include <span>

#include "core/error.h"
#include "scheduler/cost_model.h"
#include "scheduler/device_profile.h"
#include "scheduler/model_stats.h"
#include "scheduler/plan.h"

namespace prima::scheduler {

// Status invalid for a malformed assignment (sizes, k not dividing n_layer, windows not summing to
// n_layer / k, the head not selected, gpu layers above the window or on a device without a GPU) or an
// unusable cluster/model (see CostModel::build). An assignment that is well formed but does not fit (a
// device's KV cache exceeds its memory, ...) gives a Plan with feasible = false, the reason, and still a
// predicted latency.
Result<Plan> evaluate(std::span<const DeviceProfile> devices, const ModelStats& model, const Assignment& a,
                      const PlanOptions& options);

// The same on a prepared cost model; `a` must be well formed (checked with PRIMA_ASSERT).
Plan evaluate(const CostModel& cm, std::span<const DeviceProfile> devices, const Assignment& a);

// Baselines. Both keep the head selected (window >= 1) and leave devices with window 0 unselected when
// n_layer / k is smaller than the number of devices.
// Even: n_layer / k layers per cycle spread as equally as possible (the remainder goes to the last devices).
Assignment even_split(int n_devices, int n_layer, int k);
// Memory-proportional (what llama.cpp RPC and exo do): windows proportional to available memory, rounded
// by largest remainder.
Assignment memory_proportional_split(std::span<const DeviceProfile> devices, int n_layer, int k);

// Every k dividing n_layer, ascending.
std::vector<int> divisors(int n_layer);

}  // namespace prima::scheduler
