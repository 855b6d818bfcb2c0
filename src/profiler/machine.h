// What this machine is, for the profile cache's key and the profile's notes: CPU model, kernel, OS, the
// instruction set the kernels use, and the cache sizes that decide how big a working set must be to leave them.
// Read from /proc/cpuinfo, uname(2) and /sys/devices/system/cpu/cpu0/cache (paths prefixed with `root` for
// tests); anything unreadable stays empty or 0.
#pragma once

#include <cstdint>
#include <string>

#include "scheduler/device_profile.h"

namespace prima::profiler {

struct MachineInfo {
  std::string cpu_model;  // "AMD EPYC 7B13" ("model name", else "Hardware" / "CPU part" on ARM), "" if unknown
  std::string kernel;     // uname release, "6.18.44"
  std::string hostname;
  scheduler::Os os = scheduler::Os::Linux;
  std::string isa;        // kernels::active_isa(): "avx512", "avx2", "scalar"
  uint64_t l2_bytes = 0;  // per core (0: unknown)
  uint64_t llc_bytes = 0; // the last-level cache (0: unknown)
};

MachineInfo probe_machine(const std::string& root = "");

// "1024K", "32M", "512" (bytes) as in sysfs cache/index*/size; 0 when it does not parse.
uint64_t parse_cache_size(const std::string& text);

// A device name from a host name: characters outside [A-Za-z0-9._-] become '-', at most 64, "device" if empty.
std::string device_name_from(const std::string& hostname);

}  // namespace prima::profiler
