#include "memory/accounting.h"

#include <sys/resource.h>

#include <algorithm>

#include "core/clock.h"
#include "memory/proc_files.h"

namespace prima::memory {

ProcessCounters sample_process(const std::string& proc_root) {
  ProcessCounters c;
  c.t_ns = now_ns();
  if (const auto io = read_text(proc_root + "/proc/self/io")) {
    if (const auto rb = find_field(*io, "read_bytes")) {
      c.read_bytes = *rb;
      c.has_io = true;
    }
  }
  struct rusage ru {};
  if (::getrusage(RUSAGE_SELF, &ru) == 0) {
    c.major_faults = ru.ru_majflt;
    c.minor_faults = ru.ru_minflt;
  }
  if (const auto st = read_text(proc_root + "/proc/self/status")) {
    c.rss_anon = find_field(*st, "RssAnon").value_or(0);
    c.rss_file = find_field(*st, "RssFile").value_or(0);
    c.rss_shmem = find_field(*st, "RssShmem").value_or(0);
  }
  return c;
}

CounterDelta delta(const ProcessCounters& earlier, const ProcessCounters& later) {
  CounterDelta d;
  d.seconds = static_cast<double>(std::max<int64_t>(later.t_ns - earlier.t_ns, 0)) * 1e-9;
  if (earlier.has_io && later.has_io && later.read_bytes > earlier.read_bytes)
    d.read_bytes = later.read_bytes - earlier.read_bytes;
  d.major_faults = std::max<int64_t>(later.major_faults - earlier.major_faults, 0);
  d.minor_faults = std::max<int64_t>(later.minor_faults - earlier.minor_faults, 0);
  return d;
}

double memory_pressure(uint64_t unreclaimable_bytes, uint64_t ram_bytes) {
  return ram_bytes == 0 ? 0.0 : static_cast<double>(unreclaimable_bytes) / static_cast<double>(ram_bytes);
}

double memory_pressure(const ProcessCounters& c, const MemoryBudget& b) {
  return memory_pressure(c.rss_anon + c.rss_shmem, b.total_bytes);
}

}  // namespace prima::memory
