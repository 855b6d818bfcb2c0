// What of a window is in memory, and what it costs to bring it in.
//
// residency() asks mincore(2), which for a file mapping reports whether each page is in the page cache (not
// whether this process has touched it). Caveat measured here: for a file the process neither owns nor may
// write, Linux (since 5.0, against page-cache side channels) reports every page as resident; the result then
// says exact = false and should not be used for decisions.
//
// page_in() touches one byte per page, the way the first use of a window does; called just before computing
// a window it measures the page-in wait (time and major faults) apart from the compute.
#pragma once

#include <atomic>
#include <cstdint>

#include "memory/mapped_file.h"
#include "memory/ranges.h"

namespace prima::memory {

struct Residency {
  uint64_t bytes = 0;           // bytes of the ranges (clamped to the file)
  uint64_t resident_bytes = 0;  // of which in the page cache
  bool exact = true;            // false when the kernel hides page-cache state from us (see above)
};

// Residency of `ranges` of the mapping. Pages map_only() made inaccessible count as not resident.
Residency residency(const MappedFile& file, const ByteRanges& ranges);

// True when mincore on this file tells the truth: we own it, may write it, or are root.
bool can_observe_page_cache(const MappedFile& file);

struct PageIn {
  uint64_t bytes = 0;         // bytes touched (whole pages)
  int64_t wait_ns = 0;        // time spent touching
  int64_t major_faults = 0;   // this thread's major faults meanwhile (pages that came from disk)
  bool completed = true;      // false when stopped by *cancel
};

// Reads one byte of every page of `ranges`, in order, and measures the wait. Checks *cancel every page.
PageIn page_in(const MappedFile& file, const ByteRanges& ranges, const std::atomic<bool>* cancel = nullptr);

}  // namespace prima::memory
