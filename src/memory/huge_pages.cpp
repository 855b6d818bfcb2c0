#include "memory/huge_pages.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "memory/advise.h"
#include "memory/proc_files.h"
#include "memory/residency.h"

namespace prima::memory {
namespace {

uint8_t* address(const MappedFile& file, uint64_t offset) { return const_cast<uint8_t*>(file.data()) + offset; }

// A lowercase or uppercase hexadecimal number, whole; nullopt otherwise (empty, garbage, more than 64 bits).
std::optional<uint64_t> parse_hex(std::string_view s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return v;
}

// "START-END" of a smaps header line ("7f86cbe00000-7f8800000000 r--s 00000000 fe:01 1234 /path").
std::optional<std::pair<uint64_t, uint64_t>> vma_bounds(std::string_view line) {
  const auto w = words(line);
  if (w.size() < 5) return std::nullopt;
  const size_t dash = w[0].find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto lo = parse_hex(w[0].substr(0, dash)), hi = parse_hex(w[0].substr(dash + 1));
  if (!lo || !hi || *hi < *lo) return std::nullopt;
  return std::pair{*lo, *hi};
}

std::optional<std::string> read_smaps() { return read_text("/proc/self/smaps", size_t{64} << 20); }

// The PAGEMAP_SCAN ioctl of /proc/PID/pagemap (Linux 6.7, include/uapi/linux/fs.h; Debian 12's headers predate
// it): the address ranges of a walk whose pages have all of `category_mask`.
struct PmScanArg {
  uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted, category_mask,
      category_anyof_mask, return_mask;
};
struct PageRegion {
  uint64_t start, end, categories;
};
constexpr unsigned long kPagemapScan = _IOWR('f', 16, PmScanArg);
constexpr uint64_t kPageIsHuge = 1u << 6;  // THP or hugetlb: mapped by a PMD (or larger) entry

// The file ranges in [lo, hi) this process maps with huge-page entries, in order; nullopt when the kernel has no
// PAGEMAP_SCAN.
std::optional<std::vector<ByteRange>> huge_regions(const MappedFile& file, uint64_t lo, uint64_t hi) {
  const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const auto base = reinterpret_cast<uintptr_t>(file.data());
  std::vector<ByteRange> out;
  std::vector<PageRegion> vec(256);
  for (uint64_t at = lo; at < hi;) {
    PmScanArg a{};
    a.size = sizeof a;
    a.start = base + at;
    a.end = base + hi;
    a.vec = reinterpret_cast<uintptr_t>(vec.data());
    a.vec_len = vec.size();
    a.category_mask = kPageIsHuge;
    a.return_mask = kPageIsHuge;
    const long n = ::ioctl(fd, kPagemapScan, &a);
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    for (long k = 0; k < n; ++k) {
      const uint64_t b = vec[static_cast<size_t>(k)].start - base, e = vec[static_cast<size_t>(k)].end - base;
      if (!out.empty() && out.back().end == b) out.back().end = e;
      else out.push_back({b, e});
    }
    // The walk stops early only when the vector is full.
    if (a.walk_end <= a.start || a.walk_end >= base + hi) break;
    at = a.walk_end - base;
  }
  ::close(fd);
  return out;
}

}  // namespace

uint64_t huge_page_size() {
  static const uint64_t size = [] {
    if (auto t = read_text("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", 64))
      if (auto v = parse_u64(*t); v && *v >= page_size() && (*v & (*v - 1)) == 0) return *v;
    return uint64_t{2} << 20;
  }();
  return size;
}

Status advise_huge_pages(const MappedFile& file, const ByteRanges& ranges) {
  if (file.data() == nullptr) return Status::ok();
  for (const ByteRange& r : ranges.clamp(file.size())) {
    if (::madvise(address(file, r.begin), r.size(), MADV_HUGEPAGE) == 0) continue;
    if (errno == EINVAL) return Status::ok();  // no transparent huge pages in this kernel
    return Status::error(Status::Code::io, "{}: madvise(HUGEPAGE) [{:#x}, {:#x}): {}", file.path(), r.begin, r.end,
                         std::strerror(errno));
  }
  return Status::ok();
}

HugePageUse parse_smaps(std::string_view smaps, uint64_t lo, uint64_t hi) {
  HugePageUse use;
  bool in = false;
  for (std::string_view line : split(smaps, '\n')) {
    const size_t colon = line.find(':');
    const auto first = words(line);
    if (!first.empty() && first[0].find('-') != std::string_view::npos && first[0].find(':') == std::string_view::npos) {
      // A mapping's header; one that does not parse hides the lines after it.
      const auto b = vma_bounds(line);
      in = b && b->first < hi && lo < b->second;
      continue;
    }
    if (!in || colon == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, colon);
    if (key != "Rss" && key != "FilePmdMapped") continue;
    const auto v = find_field(line, key);
    if (!v) continue;
    (key == "Rss" ? use.rss_bytes : use.pmd_bytes) += *v;
  }
  return use;
}

std::optional<HugePageUse> huge_page_use(const MappedFile& file) {
  if (file.data() == nullptr) return HugePageUse{};
  const auto text = read_smaps();
  if (!text) return std::nullopt;
  const auto lo = reinterpret_cast<uintptr_t>(file.data());
  return parse_smaps(*text, lo, lo + file.size());
}

std::optional<uint64_t> huge_mapped_bytes(const MappedFile& file, const ByteRanges& ranges) {
  const ByteRanges r = ranges.clamp(file.size());
  if (file.data() == nullptr || r.empty()) return 0;
  const auto regions = huge_regions(file, r.ranges().front().begin, r.ranges().back().end);
  if (!regions) return std::nullopt;
  uint64_t n = 0;
  for (const ByteRange& g : *regions)
    for (const ByteRange& x : r) {
      const uint64_t b = std::max(g.begin, x.begin), e = std::min(g.end, x.end);
      if (b < e) n += e - b;
    }
  return n;
}

uint64_t parse_buddyinfo(std::string_view text, uint64_t block_bytes) {
  // "Node 0, zone   Normal   4374   5753 ...": free blocks of 1, 2, 4, ... pages.
  const uint64_t page = page_size();
  uint64_t total = 0;
  for (std::string_view line : split(text, '\n')) {
    const auto w = words(line);
    if (w.size() < 5 || w[0] != "Node" || w[2] != "zone") continue;
    uint64_t sum = 0;
    bool ok = true;
    for (size_t k = 4; k < w.size() && ok; ++k) {
      const size_t order = k - 4;
      const auto n = parse_u64(w[k]);
      if (!n || order > 40) {
        ok = false;
        break;
      }
      const uint64_t block = page << order;
      if (block < block_bytes) continue;
      if (*n > UINT64_MAX / block || sum > UINT64_MAX - *n * block) ok = false;
      else sum += *n * block;
    }
    if (ok && sum <= UINT64_MAX - total) total += sum;
  }
  return total;
}

std::optional<uint64_t> free_bytes_in_blocks_of(uint64_t block_bytes) {
  const auto text = read_text("/proc/buddyinfo");
  if (!text) return std::nullopt;
  return parse_buddyinfo(*text, block_bytes);
}

Result<RecacheReport> recache_in_huge_pages(const MappedFile& file, const ByteRanges& kept) {
  RecacheReport rep;
  if (file.data() == nullptr) return rep;
  const uint64_t h = huge_page_size();
  // The huge-page spans inside `kept`: only those can be mapped by a PMD.
  std::vector<uint64_t> spans;
  for (const ByteRange& r : kept.clamp(file.size())) {
    const uint64_t first = (r.begin + h - 1) / h * h, last = r.end / h * h;
    for (uint64_t o = first; o + h <= last && o + h <= file.size(); o += h) spans.push_back(o);
  }
  if (spans.empty()) return rep;
  // The cached spans of `offs` (in order) that the page cache holds in small folios: a touch of each maps it
  // whole when its folio is a huge page, then one scan of the page tables tells which are. A span not cached is
  // left alone: its first fault reads it in a huge page anyway, and probing it would read it for nothing.
  auto small_of = [&](const std::vector<uint64_t>& offs) -> std::optional<std::vector<uint64_t>> {
    std::vector<uint64_t> cached;
    for (uint64_t off : offs) {
      ByteRanges one;
      one.add(off, h);
      const Residency res = residency(file, one);
      if (!res.exact || res.resident_bytes < h) continue;
      (void)*static_cast<const volatile uint8_t*>(file.data() + off);
      cached.push_back(off);
    }
    rep.probed += static_cast<int>(cached.size());
    if (cached.empty()) return cached;
    const auto huge = huge_regions(file, cached.front(), cached.back() + h);
    if (!huge) return std::nullopt;
    std::vector<uint64_t> small;
    size_t g = 0;
    for (uint64_t off : cached) {
      while (g < huge->size() && (*huge)[g].end <= off) ++g;
      if (g == huge->size() || (*huge)[g].begin > off || (*huge)[g].end < off + h) small.push_back(off);
    }
    return small;
  };
  // Every cached span: a few page faults and one scan (about 10 ms for 8 GiB).
  auto small = small_of(spans);
  if (!small) {
    rep.supported = false;
    return rep;
  }
  rep.small = static_cast<int>(small->size());
  // A few small spans are not worth a disk read (4 % of them cost well under 1 % of decode speed); they are what
  // a re-read leaves when free memory has no 2 MiB blocks, so acting on them would re-read them every start.
  if (small->empty() || 8 * rep.small < rep.probed) return rep;
  // The trial: does this kernel and file system read a dropped span back as a huge page?
  const uint64_t t = small->front();
  ByteRanges trial;
  trial.add(t, h);
  if (auto r = release_ranges(file, trial); !r) return r.status();
  rep.trial = true;
  (void)*static_cast<const volatile uint8_t*>(file.data() + t);
  const auto back = huge_mapped_bytes(file, trial);
  rep.trial_huge = back && *back == h;
  if (!rep.trial_huge) return rep;
  // Then the other small spans, as many as free memory has huge pages for.
  size_t n_drop = small->size() - 1;
  if (const auto room = free_bytes_in_blocks_of(h); room && *room / h < n_drop) n_drop = static_cast<size_t>(*room / h);
  rep.deferred = static_cast<int>(small->size() - 1 - n_drop);
  ByteRanges drop;
  for (size_t k = 1; k <= n_drop; ++k) drop.add((*small)[k], h);
  auto dropped = release_ranges(file, drop);
  if (!dropped) return dropped.status();
  rep.dropped_bytes = dropped->bytes;
  return rep;
}

}  // namespace prima::memory
