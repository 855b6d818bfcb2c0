// Device profiles as JSON: the profiler's cache, and the `cluster.json` files users write by hand to ask
// "what if I add my phone?". The full format, with examples, is docs/profiles.md. In short:
//
//   { "format": "prima-cluster", "version": 1,          (both optional; if present they must be these)
//     "devices": [                                        ring order; the LAST device is the head
//       { "name": "desktop",                              required: 1-64 of [A-Za-z0-9._-], unique
//         "os": "linux",                                  linux | macos | android | windows (default linux)
//         "cores": 16,                                    1..4096 (default 1)
//         "cpu":    { "decode": {"Q4_K": "80 GFLOP/s", "*": "40 GFLOP/s"},   required, per weight type
//                     "prefill": {...} },                                    optional
//         "memory": { "available": "9.7 GiB",             required (cgroup-aware free memory)
//                     "total": ..., "swap": ..., "read_bandwidth": "50 GB/s" },
//         "disk":   { "seq_read": "3.17 GB/s", "rand_read": "1.1 GB/s" },   0/absent: cannot stream
//         "gpu":    { "name": ..., "vram": ..., "decode": {...}, "read_bandwidth": ... },   optional
//         "link":   { "rtt": "5 ms", "bandwidth": "300 Mbit/s" } } ] }      to the next device
//
// Every quantity is either a JSON number in base units (bytes, bytes/s, seconds, FLOP/s) or a string with a
// unit (scheduler/units.h). Keys starting with '_' and "comment" keys are ignored; any other unknown key, a
// duplicate key, a wrong type or an out-of-range value throws prima::Error naming the source and the field,
// e.g. "cluster.json: devices[2].memory.available: expected a size ...". Writers emit base-unit numbers.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scheduler/device_profile.h"

namespace prima::scheduler {

inline constexpr int kMaxDevices = 64;

// A whole cluster file. `source` names the input in error messages (usually the path).
std::vector<DeviceProfile> parse_cluster_json(std::string_view text, std::string_view source);
// One device object (the profiler's cache file).
DeviceProfile parse_device_json(std::string_view text, std::string_view source);

std::string cluster_to_json(std::span<const DeviceProfile> devices);  // pretty-printed, ends with '\n'
std::string device_to_json(const DeviceProfile& device);

}  // namespace prima::scheduler
