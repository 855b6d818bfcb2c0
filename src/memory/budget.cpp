#include "memory/budget.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/format.h"
#include "memory/proc_files.h"

namespace prima::memory {

Result<MemoryBudget> probe_budget(const BudgetOptions& options) {
  MemoryBudget b;
  const std::string meminfo_path = options.root + "/proc/meminfo";
  const auto meminfo = read_text(meminfo_path);
  if (!meminfo) return Status::error(Status::Code::io, "{}: cannot read", meminfo_path);
  const auto total = find_field(*meminfo, "MemTotal");
  if (!total || *total == 0) return Status::error(Status::Code::io, "{}: no usable MemTotal", meminfo_path);
  b.host_total_bytes = *total;
  if (const auto avail = find_field(*meminfo, "MemAvailable")) {
    b.host_available_bytes = *avail;
  } else {
    // Kernels before 3.14: free plus page cache is the usual estimate.
    b.host_available_bytes = find_field(*meminfo, "MemFree").value_or(0) + find_field(*meminfo, "Cached").value_or(0);
    b.notes.push_back(fmt::format("{}: no MemAvailable, using MemFree + Cached", meminfo_path));
  }
  b.host_available_bytes = std::min(b.host_available_bytes, b.host_total_bytes);
  b.swap_total_bytes = find_field(*meminfo, "SwapTotal").value_or(0);
  b.swap_free_bytes = std::min(find_field(*meminfo, "SwapFree").value_or(0), b.swap_total_bytes);

  b.cgroup = read_cgroup_memory(options.root);
  const CgroupMemory& cg = b.cgroup;
  b.total_bytes = b.host_total_bytes;
  b.available_bytes = b.host_available_bytes;
  if (cg.limit && *cg.limit < b.host_total_bytes) {
    b.total_bytes = *cg.limit;
    b.limited_by_cgroup = true;
  }
  if (cg.headroom) b.available_bytes = std::min(b.available_bytes, *cg.headroom);
  b.available_bytes = std::min(b.available_bytes, b.total_bytes);
  if (cg.swap_limit) {
    b.swap_total_bytes = std::min(b.swap_total_bytes, *cg.swap_limit);
    const uint64_t left = *cg.swap_limit > cg.swap_usage ? *cg.swap_limit - cg.swap_usage : 0;
    b.swap_free_bytes = std::min({b.swap_free_bytes, left, b.swap_total_bytes});
  }
  if (options.override_bytes) {
    b.available_bytes = *options.override_bytes;
    b.overridden = true;
  }
  b.notes.insert(b.notes.end(), cg.notes.begin(), cg.notes.end());
  return b;
}

std::string describe(const MemoryBudget& b) {
  std::string where = fmt::format("host {}", format_bytes(b.host_total_bytes));
  if (b.cgroup.version != 0) {
    where = fmt::format("cgroup v{} {} {}; {}", b.cgroup.version, b.cgroup.path,
                        b.cgroup.limit ? "limit " + format_bytes(*b.cgroup.limit) : std::string("no limit"), where);
  }
  return fmt::format("RAM {} ({}), available {}{}, swap {} free of {}", format_bytes(b.total_bytes), where,
                     format_bytes(b.available_bytes), b.overridden ? " (--mem)" : "", format_bytes(b.swap_free_bytes),
                     format_bytes(b.swap_total_bytes));
}

}  // namespace prima::memory
