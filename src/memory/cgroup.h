// The memory cgroup of this process: where it is and what it allows. A process in a container or a homelab
// device must plan with its group's limit, not the host's RAM (prima.cpp read the host's: DESIGN.md §5).
//
// Files read (every path below is prefixed with `root`, so tests can build a fake tree): /proc/self/cgroup and
// /proc/self/mountinfo to find the memory group (memory/cgroup_path.h), then
//   v1, in the group and each parent up to the mount: memory.limit_in_bytes, memory.usage_in_bytes,
//     memory.stat (total_active_file, total_inactive_file, total_rss, hierarchical_memory_limit,
//     hierarchical_memsw_limit), memory.memsw.limit_in_bytes, memory.memsw.usage_in_bytes.
//     "No limit" is a huge number (9223372036854771712); anything >= 2^60 is read as no limit.
//   v2, likewise: memory.max and memory.high ("max" = no limit), memory.current, memory.stat (active_file,
//     inactive_file, anon), memory.swap.max, memory.swap.current.
// A file that is missing or does not parse is skipped and named in `notes`; nothing here throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace prima::memory {

struct CgroupMemory {
  int version = 0;                     // 1 or 2; 0 when no memory cgroup was found
  std::string path;                    // as in /proc/self/cgroup, e.g. "/homelab/d1"
  std::string dir;                     // the directory read (with root)
  std::optional<uint64_t> limit;       // tightest limit from the group up to the root (memory.high included)
  std::optional<uint64_t> headroom;    // least (limit - usage + file cache) over the limited levels: what can
                                       // still be filled, counting clean page cache as reclaimable
  uint64_t usage = 0;                  // the group's usage, page cache included
  uint64_t file = 0;                   // the group's page cache (active + inactive file pages)
  uint64_t anon = 0;                   // the group's anonymous memory (rss / anon)
  std::optional<uint64_t> swap_limit;  // swap the group may use (v1: memsw limit - limit; v2: memory.swap.max)
  uint64_t swap_usage = 0;
  std::vector<std::string> notes;      // files that were missing or did not parse
};

CgroupMemory read_cgroup_memory(const std::string& root = "");

}  // namespace prima::memory
