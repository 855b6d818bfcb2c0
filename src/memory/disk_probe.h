// How fast the disk holding a file reads: sequential and random reads of the file itself, with O_DIRECT so
// that the page cache neither serves the reads nor grows (the profiler measures the model file this way).
// Reads only, bounded in time; nothing is ever written (prima.cpp's disk test wrote 1 GiB that was charged to
// the small devices' memory: DESIGN.md §5).
//
// Where O_DIRECT is unsupported (tmpfs before Linux 6.6, some FUSE and overlay file systems) it falls back to
// plain reads, says so (direct = false), and reads at most `buffered_max_bytes` per phase, since those reads
// go through the page cache. A file on tmpfs or ramfs is in memory whatever the flags: in_memory says so,
// and the speeds are memory's, not a disk's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace prima::memory {

struct DiskProbeOptions {
  double seconds = 1.0;                                    // the whole probe; 40 % sequential, the rest random
  uint32_t sequential_block = 1u << 20;                    // bytes per sequential read
  std::vector<uint32_t> random_blocks = {4096, 64u << 10, 1u << 20};  // one random phase per size
  uint64_t buffered_max_bytes = 64ull << 20;               // per phase, without O_DIRECT
  uint64_t seed = 1;                                       // random offsets
  bool try_direct = true;                                  // false: plain reads from the start
};

struct ReadSpeed {
  uint32_t block = 0;    // bytes per read
  uint64_t reads = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  double bytes_per_s() const { return seconds > 0 ? static_cast<double>(bytes) / seconds : 0; }
  double iops() const { return seconds > 0 ? static_cast<double>(reads) / seconds : 0; }
};

struct DiskProbe {
  std::string path;
  uint64_t file_bytes = 0;
  bool direct = true;              // O_DIRECT reads (false: plain reads, see above)
  bool in_memory = false;          // tmpfs / ramfs: no disk behind the file
  ReadSpeed sequential;
  std::vector<ReadSpeed> random;   // in the order of random_blocks
  std::string note;                // why direct is false, or what was clipped
};

// Fails (Status io / invalid) when the file cannot be opened or read, is not a regular file, or is smaller
// than 4 KiB.
Result<DiskProbe> probe_disk(const std::string& path, const DiskProbeOptions& options = {});

}  // namespace prima::memory
