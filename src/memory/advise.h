// Advice to the kernel on byte ranges of a mapped file: read them ahead, or drop them. These are the
// synchronous building blocks; Prefetcher (prefetcher.h) runs read-ahead in the background.
//
// Measured on Linux 6.18, ext4 (docs/memory.md has the numbers):
//  - One madvise(MADV_WILLNEED) (or posix_fadvise(POSIX_FADV_WILLNEED)) reads at most
//    max(read_ahead_kb, max_sectors_kb) of the device, whatever length is asked: 8 MiB of a 64 MiB range here.
//    advise_willneed therefore walks the ranges in chunks of that size. The call also blocks while the
//    device queue is full (about 50 ms per 256 MiB here), which is why Prefetcher calls it off the token path.
//  - Dropping a window of a shared read-only file mapping needs both steps: MADV_DONTNEED alone removes our
//    page-table entries but the pages stay cached (and charged to the memory cgroup); POSIX_FADV_DONTNEED
//    alone skips pages that are still mapped. Together they free the cache. MADV_COLD frees nothing;
//    MADV_PAGEOUT frees only when the caller owns the file or may write it (a silent no-op otherwise).
//  - A page fault on a mapping with the default advice reads around the faulting page (read_ahead_kb, half of
//    it *before* the page): streaming a 128 MiB file through 16 MiB windows in a 64 MiB device read 140-150
//    MiB per pass, re-reading the tail of the window just released. With MADV_SEQUENTIAL faults read ahead
//    only, and each pass read exactly 128 MiB. MADV_RANDOM reads single pages: 20-50x slower without
//    prefetch. Windows are read in file order, so advise_access(sequential) on the owned ranges.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/error.h"
#include "memory/mapped_file.h"
#include "memory/ranges.h"

namespace prima::memory {

enum class Access { normal, sequential, random };

// How page faults on `ranges` read ahead (MADV_NORMAL / MADV_SEQUENTIAL / MADV_RANDOM). The advice belongs to
// the mapping, so map_only() resets it: advise again after it.
Status advise_access(const MappedFile& file, const ByteRanges& ranges, Access access);

struct AdviseStats {
  uint64_t bytes = 0;      // bytes the advice covered (whole pages, clamped to the file)
  int64_t elapsed_ns = 0;  // time spent in the system calls
};

// How many bytes one MADV_WILLNEED reads on the device holding `fd`: max(read_ahead_kb, max_sectors_kb) from
// /sys/class/bdi or /sys/dev/block, 128 KiB when unknown (tmpfs, overlay, no sysfs). `sys_root` prefixes
// the /sys paths (tests).
uint64_t readahead_chunk_bytes(int fd, const std::string& sys_root = "");

// Starts asynchronous reads of `ranges` into the page cache (MADV_WILLNEED, `chunk_bytes` per call; 0 picks
// readahead_chunk_bytes). Stops between chunks when *cancel becomes true. Pages already cached cost nothing.
Result<AdviseStats> advise_willneed(const MappedFile& file, const ByteRanges& ranges, uint64_t chunk_bytes = 0,
                                    const std::atomic<bool>* cancel = nullptr);

// Drops `ranges` from this process and from the page cache: MADV_DONTNEED, then POSIX_FADV_DONTNEED. Pages
// another process still maps, or that are dirty, stay. Pointers stay valid: a later touch reads from disk.
Result<AdviseStats> release_ranges(const MappedFile& file, const ByteRanges& ranges);

}  // namespace prima::memory
