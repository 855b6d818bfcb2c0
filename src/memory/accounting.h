// Accounting of what the weights cost, per call or per token: sample the process counters before and after,
// subtract. Sources:
//   /proc/self/io      read_bytes: bytes this process caused to be fetched from storage (page-cache misses of
//                      the mapping, the read-ahead they and MADV_WILLNEED triggered, direct I/O). It counts the
//                      whole process, all threads: a token's delta includes anything else the process read.
//   getrusage(SELF)    major faults (a page had to come from disk) and minor faults, all threads.
//   /proc/self/status  RssAnon, RssFile, RssShmem.
// Page-in wait time comes from page_in() (residency.h) and residency of a window from residency().
//
// Memory pressure (DESIGN.md §1) is the memory the OS cannot reclaim because of us, as a fraction of the
// device's RAM: anonymous RSS (KV cache, activations, buffers) plus shared memory, which cannot be dropped
// without swap. The mapped weights are clean page cache and do not count. The paper's claim to beat: < 6 %.
#pragma once

#include <cstdint>
#include <string>

#include "memory/budget.h"

namespace prima::memory {

struct ProcessCounters {
  int64_t t_ns = 0;           // steady clock at the sample
  bool has_io = false;        // /proc/self/io could be read (it can be hidden in some containers)
  uint64_t read_bytes = 0;    // /proc/self/io read_bytes
  int64_t major_faults = 0;   // getrusage ru_majflt
  int64_t minor_faults = 0;   // getrusage ru_minflt
  uint64_t rss_anon = 0;      // RssAnon
  uint64_t rss_file = 0;      // RssFile: mapped file pages in our page tables (the weights among them)
  uint64_t rss_shmem = 0;     // RssShmem
};

// `proc_root` prefixes /proc (tests); getrusage is always this process.
ProcessCounters sample_process(const std::string& proc_root = "");

struct CounterDelta {
  double seconds = 0;
  uint64_t read_bytes = 0;  // 0 when either sample lacked /proc/self/io
  int64_t major_faults = 0;
  int64_t minor_faults = 0;
};

// later - earlier (counters never go backwards; a negative difference is reported as 0).
CounterDelta delta(const ProcessCounters& earlier, const ProcessCounters& later);

// Unreclaimable bytes over the device's RAM; 0 when ram_bytes is 0.
double memory_pressure(uint64_t unreclaimable_bytes, uint64_t ram_bytes);
// RssAnon + RssShmem over the budget's total_bytes (the cgroup limit when lower than physical RAM).
double memory_pressure(const ProcessCounters& c, const MemoryBudget& b);

}  // namespace prima::memory
