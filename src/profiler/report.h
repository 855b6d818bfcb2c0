// A profile as people and programs read it.
//
// JSON (`prima profile --json`, the cache, ProfileReply): one device object of a cluster file
// (docs/profiles.md, scheduler/profile_json.h) with the measurement details under "_profile", which the cluster
// file parser ignores (keys starting with '_'), so the output is usable as a device entry as it is:
//
//   { "name": "d1", "os": "linux", "cores": 1, "cpu": {"decode": {...}, "prefill": {...}},
//     "memory": {...}, "disk": {...}, "link": {...},
//     "_profile": { "prima": "0.1.0", "profiler": 1, "measured_at": "...", "from_cache": false,
//                   "cpu_limits": {"effective_cores": 0.5, "quota": 0.5, "cpus": 2, "threads": 1, ...},
//                   "types": [{"type": "Q4_K", "decode_flops": ..., "stream": {"median": ..., "min": ...,
//                              "max": ..., "n": 5}, "hot": {...}, "prefill": {...}, ...}],
//                   "memory": {"read_bandwidth": {...}, ...}, "disk": {...}, "notes": [...] } }
//
// The table (`prima profile`): one line per figure with its median, spread and how it was measured.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "profiler/profiler.h"

namespace prima::profiler {

nlohmann::json report_json(const ProfileReport& report);
std::string report_table(const ProfileReport& report);

// The measured part of a report (what the cache stores): CPU types, read bandwidth, disk, when and how long,
// their notes. `measured_from_json` is its inverse for untrusted input: anything missing or of the wrong type
// throws prima::Error naming `source` and the field.
nlohmann::json measured_json(const ProfileReport& report);
void measured_from_json(const nlohmann::json& j, std::string_view source, ProfileReport& report);

nlohmann::json estimate_json(const Estimate& e);
Estimate estimate_from_json(const nlohmann::json& j, std::string_view source, std::string_view field);

}  // namespace prima::profiler
