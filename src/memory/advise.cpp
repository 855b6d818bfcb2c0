#include "memory/advise.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "core/clock.h"

namespace prima::memory {
namespace {

// A sysfs value in KiB; 0 when the file is missing or does not hold a number.
uint64_t read_kib(const std::string& path) {
  std::ifstream in(path);
  uint64_t v = 0;
  if (!(in >> v)) return 0;
  return v * 1024;
}

uint8_t* address(const MappedFile& file, uint64_t offset) { return const_cast<uint8_t*>(file.data()) + offset; }

}  // namespace

uint64_t readahead_chunk_bytes(int fd, const std::string& sys_root) {
  constexpr uint64_t kFallback = 128 * 1024, kMax = 64ull << 20;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return kFallback;
  const std::string dev = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  // The file's readahead window comes from its backing device (bdi); the per-call ceiling is the larger of
  // it and the device's largest request. A partition has no queue of its own: its disk's is one level up.
  uint64_t ra = read_kib(sys_root + "/sys/class/bdi/" + dev + "/read_ahead_kb");
  uint64_t io = 0;
  for (const char* q : {"/queue/", "/../queue/"}) {
    const std::string base = sys_root + "/sys/dev/block/" + dev + q;
    if (ra == 0) ra = read_kib(base + "read_ahead_kb");
    if (io == 0) io = read_kib(base + "max_sectors_kb");
  }
  const uint64_t chunk = std::max(ra, io);
  if (chunk == 0) return kFallback;
  return std::clamp(chunk / page_size() * page_size(), page_size(), kMax);
}

Status advise_access(const MappedFile& file, const ByteRanges& ranges, Access access) {
  if (file.data() == nullptr) return Status::ok();
  const int advice = access == Access::sequential ? MADV_SEQUENTIAL : access == Access::random ? MADV_RANDOM : MADV_NORMAL;
  for (const ByteRange& r : ranges.clamp(file.size()))
    if (::madvise(address(file, r.begin), r.size(), advice) != 0)
      return Status::error(Status::Code::io, "{}: madvise(access) [{:#x}, {:#x}): {}", file.path(), r.begin, r.end,
                           std::strerror(errno));
  return Status::ok();
}

Result<AdviseStats> advise_willneed(const MappedFile& file, const ByteRanges& ranges, uint64_t chunk_bytes,
                                    const std::atomic<bool>* cancel) {
  AdviseStats st;
  if (file.data() == nullptr) return st;
  if (chunk_bytes == 0) chunk_bytes = readahead_chunk_bytes(file.fd());
  chunk_bytes = std::max(chunk_bytes / page_size() * page_size(), page_size());
  const Stopwatch sw;
  for (const ByteRange& r : ranges.clamp(file.size())) {
    for (uint64_t off = r.begin; off < r.end; off += chunk_bytes) {
      if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
        st.elapsed_ns = sw.elapsed_ns();
        return st;
      }
      const uint64_t n = std::min(chunk_bytes, r.end - off);
      if (::madvise(address(file, off), n, MADV_WILLNEED) != 0)
        return Status::error(Status::Code::io, "{}: madvise(WILLNEED) at {:#x}: {}", file.path(), off,
                             std::strerror(errno));
      st.bytes += n;
    }
  }
  st.elapsed_ns = sw.elapsed_ns();
  return st;
}

Result<AdviseStats> release_ranges(const MappedFile& file, const ByteRanges& ranges) {
  AdviseStats st;
  if (file.data() == nullptr) return st;
  const Stopwatch sw;
  for (const ByteRange& r : ranges.clamp(file.size())) {
    // Our page-table entries first: the page cache keeps a page as long as some mapping still maps it.
    if (::madvise(address(file, r.begin), r.size(), MADV_DONTNEED) != 0)
      return Status::error(Status::Code::io, "{}: madvise(DONTNEED) [{:#x}, {:#x}): {}", file.path(), r.begin, r.end,
                           std::strerror(errno));
    const int rc = ::posix_fadvise(file.fd(), static_cast<off_t>(r.begin), static_cast<off_t>(r.size()),
                                   POSIX_FADV_DONTNEED);
    if (rc != 0)
      return Status::error(Status::Code::io, "{}: posix_fadvise(DONTNEED) [{:#x}, {:#x}): {}", file.path(), r.begin,
                           r.end, std::strerror(rc));
    st.bytes += r.size();
  }
  st.elapsed_ns = sw.elapsed_ns();
  return st;
}

}  // namespace prima::memory
