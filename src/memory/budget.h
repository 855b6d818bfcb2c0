// The memory budget of this device as the OS sees it: host RAM from /proc/meminfo, bounded by the limits of
// the process's own memory cgroup (v1 or v2, cgroup.h), so that a process in a container or a homelab device
// plans with its limit and not the host's RAM. The CLI's --mem override is accepted here as a plain value.
//
// /proc/meminfo lines used: MemTotal, MemAvailable (MemFree + Cached on kernels without it), SwapTotal,
// SwapFree ("Key:   123 kB").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "memory/cgroup.h"

namespace prima::memory {

struct MemoryBudget {
  uint64_t total_bytes = 0;           // the device's RAM: MemTotal, or the cgroup limit when lower
  uint64_t available_bytes = 0;       // usable now without swapping: min(MemAvailable, cgroup headroom);
                                      // the override instead when one is given
  uint64_t swap_total_bytes = 0;      // SwapTotal, or the cgroup's swap allowance when lower
  uint64_t swap_free_bytes = 0;       // SwapFree, or what is left of the cgroup's allowance when lower
  uint64_t host_total_bytes = 0;      // MemTotal
  uint64_t host_available_bytes = 0;  // MemAvailable
  bool limited_by_cgroup = false;     // total_bytes is the cgroup limit
  bool overridden = false;            // available_bytes is the caller's override
  CgroupMemory cgroup;
  std::vector<std::string> notes;     // what could not be read (the cgroup's notes included)
};

struct BudgetOptions {
  std::string root;                       // prefix of /proc and /sys paths (tests build fake trees)
  std::optional<uint64_t> override_bytes;  // --mem: use this as available memory
};

// Reads meminfo and the cgroup. Fails (Status io) only when /proc/meminfo has no usable MemTotal.
Result<MemoryBudget> probe_budget(const BudgetOptions& options = {});

// One line for logs: "RAM 64.0 MiB (cgroup v1 /homelab/d1 limit; host 23.5 GiB), available 60.2 MiB, swap 0 B".
std::string describe(const MemoryBudget& b);

}  // namespace prima::memory
