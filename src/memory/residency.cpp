#include "memory/residency.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "core/clock.h"

namespace prima::memory {
namespace {

int64_t thread_major_faults() {
  struct rusage ru {};
  if (::getrusage(RUSAGE_THREAD, &ru) != 0) return 0;
  return ru.ru_majflt;
}

}  // namespace

bool can_observe_page_cache(const MappedFile& file) {
  if (file.fd() < 0) return false;
  if (::geteuid() == 0) return true;
  struct stat st {};
  if (::fstat(file.fd(), &st) == 0 && st.st_uid == ::geteuid()) return true;
  return ::faccessat(AT_FDCWD, file.path().c_str(), W_OK, AT_EACCESS) == 0;
}

Residency residency(const MappedFile& file, const ByteRanges& ranges) {
  Residency res;
  if (file.data() == nullptr) return res;
  res.exact = can_observe_page_cache(file);
  const uint64_t page = page_size();
  constexpr uint64_t kPagesPerCall = 1u << 16;  // 256 MiB of 4 KiB pages per mincore call, 64 KiB of vector
  std::vector<unsigned char> vec;
  for (const ByteRange& r : ranges.clamp(file.size())) {
    res.bytes += r.size();
    for (uint64_t off = r.begin; off < r.end;) {
      const uint64_t n = std::min<uint64_t>(r.end - off, kPagesPerCall * page);
      vec.resize(n / page);
      if (::mincore(const_cast<uint8_t*>(file.data()) + off, n, vec.data()) == 0)
        res.resident_bytes += static_cast<uint64_t>(std::count_if(vec.begin(), vec.end(), [](unsigned char c) {
                                return (c & 1) != 0;
                              })) * page;
      off += n;
    }
  }
  return res;
}

PageIn page_in(const MappedFile& file, const ByteRanges& ranges, const std::atomic<bool>* cancel) {
  PageIn p;
  if (file.data() == nullptr) return p;
  const uint64_t page = page_size();
  const int64_t faults0 = thread_major_faults();
  const Stopwatch sw;
  for (const ByteRange& r : ranges.clamp(file.size())) {
    // The last page may run past the end of the file: touch its first byte, which is inside.
    for (uint64_t off = r.begin; off < r.end && off < file.size(); off += page) {
      if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
        p.completed = false;
        break;
      }
      (void)*static_cast<const volatile uint8_t*>(file.data() + off);  // a volatile read is never elided
      p.bytes += page;
    }
    if (!p.completed) break;
  }
  p.wait_ns = sw.elapsed_ns();
  p.major_faults = thread_major_faults() - faults0;
  return p;
}

}  // namespace prima::memory
