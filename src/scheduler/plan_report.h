// A plan for people and for programs: a table (what `prima plan` and the head print at start) and the JSON
// object of `prima plan --json`:
//
//   { "k": 8, "predicted_ms_per_token": 3839.2,
//     "breakdown": { "compute_ms", "memory_ms", "disk_ms", "comm_ms", "ring_ms", "disk_wait_ms",
//                    "bottleneck": "<device name>" | null },
//     "devices": [ { "name", "selected", "window", "gpu_layers", "layers", "compute_ms", "memory_ms", "disk_ms",
//                    "comm_ms", "busy_ms", "weight_bytes", "kv_bytes", "private_bytes", "page_cache_bytes",
//                    "pinned_bytes", "disk_bytes_per_token", "inline_disk_bytes_per_token", "vram_bytes" } ],
//     "by_k": [ { "k", "predicted_ms_per_token" } ], "notes": [ "..." ] }
//
// Device terms add up to the breakdown, and the breakdown to predicted_ms_per_token.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "scheduler/plan.h"

namespace prima::scheduler {

nlohmann::json plan_to_json(const Plan& plan);

// The per-device table and a summary line, ending with '\n'.
std::string plan_table(const Plan& plan);

}  // namespace prima::scheduler
