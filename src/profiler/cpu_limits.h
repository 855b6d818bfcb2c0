// How many cores this process may really use. A homelab device with `cpu 0.45` runs on a 2-core host but gets
// 45 % of one core; a container may be pinned to two CPUs of sixteen. Planning with the host's core count is the
// same mistake as planning with the host's RAM (DESIGN.md §5).
//
//   effective_cores = min(online CPUs, affinity, cgroup cpuset, cgroup CPU quota)
//
// Files read (every path prefixed with `root`, so tests build fake trees; nothing here throws, a file that is
// missing or garbage is skipped and named in `notes`):
//   /sys/devices/system/cpu/online      CPU list ("0-1")
//   /proc/self/status                   Cpus_allowed_list (the affinity; with root "" also sched_getaffinity)
//   /proc/self/cgroup, /proc/self/mountinfo
//                                       as in memory/cgroup.h: the v1 line whose controllers include "cpu" (resp.
//                                       "cpuset") wins over the v2 line "0::PATH"; the mount gives the directory
//   v1 cpu:    cpu.cfs_quota_us (-1 = none) / cpu.cfs_period_us, at every level from the group up to the mount
//   v1 cpuset: cpuset.effective_cpus, else cpuset.cpus, of the group
//   v2:        cpu.max ("max 100000" or "45000 100000") at every level; cpuset.cpus.effective of the group or
//              the nearest ancestor that has it. v2 counts only when its root's cgroup.controllers lists the
//              controller ("cpu", "cpuset").
// The tightest quota over the levels wins (a parent's quota caps its children).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prima::profiler {

struct CpuLimits {
  int online = 0;                // CPUs online on the host
  int affinity = 0;              // CPUs this process may be scheduled on (0: unknown)
  std::optional<int> cpuset;     // CPUs of the cgroup's cpuset
  std::string cpuset_list;       // as written there, e.g. "0-1"
  std::optional<double> quota;   // cores' worth of CPU time per period (0.45), tightest over the levels
  double period_seconds = 0;     // the scheduler period of that quota (homelab: 0.01; systemd: 0.1)
  int quota_version = 0;         // cgroup version the quota came from (0: no cpu controller found)
  std::string quota_path;        // the cgroup, as in /proc/self/cgroup ("/homelab/d1")
  int cpus = 1;                  // CPUs threads can run on at once: min(online, affinity, cpuset), >= 1
  double effective_cores = 1;    // min(cpus, quota)
  std::vector<std::string> notes;

  // Worker threads to run with: enough to use the quota (0.45 -> 1, 1.8 -> 2; a quota a hair above a whole
  // number does not earn a thread of its own: 1.04 -> 1), never more than `cpus`.
  int threads() const;
};

CpuLimits read_cpu_limits(const std::string& root = "");

// A kernel CPU list: "0-3,8,10-11" (whitespace around it allowed). nullopt when malformed; the CPUs in order.
std::optional<std::vector<int>> parse_cpu_list(std::string_view text);

}  // namespace prima::profiler
