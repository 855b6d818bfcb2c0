// Where one cgroup controller of this process lives: shared by the memory budget (memory/cgroup.h) and the CPU
// quota and cpuset (profiler/cpu_limits.h).
//
//   /proc/self/cgroup     lines "ID:CONTROLLERS:PATH"; v1 has a line whose CONTROLLERS (comma separated)
//                         include the controller, v2 the line "0::PATH". The v1 line wins (hybrid hosts).
//   /proc/self/mountinfo  "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE SOURCE SUPEROPTS": the v1
//                         hierarchy is FSTYPE "cgroup" with the controller in SUPEROPTS, v2 is "cgroup2". The
//                         group's directory is MOUNTPOINT + (PATH less ROOT). Without mountinfo:
//                         /sys/fs/cgroup/CONTROLLER (v1) or /sys/fs/cgroup (v2).
// A v2 hierarchy counts only when its root enables the controller (cgroup.controllers): on a hybrid host the
// controller is a v1 hierarchy instead. Paths are prefixed with `root` (tests build fake trees).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace prima::memory {

struct CgroupGroup {
  int version = 0;   // 1 or 2
  std::string path;  // as in /proc/self/cgroup
  std::string dir;   // the group's directory (with root)
  std::string top;   // the mount point (with root): a group's levels are walked up to here
};

// self, mountinfo: the texts of /proc/self/cgroup and /proc/self/mountinfo (nullopt: unreadable).
// v1_file: a file the v1 group must have to count (empty: none). A path outside the mounted root is named in
// `notes` and the mount point used instead.
std::optional<CgroupGroup> find_cgroup(const std::string& root, std::string_view self,
                                       const std::optional<std::string>& mountinfo, std::string_view controller,
                                       std::vector<std::string>& notes, std::string_view v1_file = {});

}  // namespace prima::memory
