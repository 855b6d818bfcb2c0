#include "memory/huge_pages.h"

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

// A reservation of 2 * h bytes and the h-aligned address inside it.
struct AlignedSlot {
  void* base = MAP_FAILED;
  size_t bytes = 0;
  uint8_t* at = nullptr;
  explicit AlignedSlot(uint64_t h) : bytes(static_cast<size_t>(2 * h)) {
    base = ::mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base != MAP_FAILED)
      at = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(base) + h - 1) & ~static_cast<uintptr_t>(h - 1));
  }
  ~AlignedSlot() {
    if (base != MAP_FAILED) ::munmap(base, bytes);
  }
  AlignedSlot(const AlignedSlot&) = delete;
  AlignedSlot& operator=(const AlignedSlot&) = delete;
};

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

Result<bool> span_in_huge_page(const MappedFile& file, uint64_t offset) {
  const uint64_t h = huge_page_size();
  if (file.fd() < 0 || offset % h != 0 || offset + h > file.size())
    return Status::error(Status::Code::invalid, "{}: no huge page of the file at {:#x}", file.path(), offset);
  const AlignedSlot slot(h);
  if (slot.base == MAP_FAILED)
    return Status::error(Status::Code::io, "cannot reserve {} bytes: {}", slot.bytes, std::strerror(errno));
  void* p = ::mmap(slot.at, static_cast<size_t>(h), PROT_READ, MAP_SHARED | MAP_FIXED, file.fd(),
                   static_cast<off_t>(offset));
  if (p == MAP_FAILED)
    return Status::error(Status::Code::io, "{}: cannot map [{:#x}, +{:#x}): {}", file.path(), offset, h,
                         std::strerror(errno));
  (void)::madvise(p, static_cast<size_t>(h), MADV_HUGEPAGE);
  (void)*static_cast<const volatile uint8_t*>(p);  // one fault maps the whole folio when it is PMD-sized
  const auto text = read_smaps();
  if (!text) return Status::error(Status::Code::io, "cannot read /proc/self/smaps");
  const auto lo = reinterpret_cast<uintptr_t>(p);
  return parse_smaps(*text, lo, lo + h).pmd_bytes >= h;  // the slot unmaps it
}

Result<RecacheReport> recache_in_huge_pages(const MappedFile& file, const ByteRanges& kept, int max_probes) {
  RecacheReport rep;
  if (file.data() == nullptr || max_probes <= 0) return rep;
  const uint64_t h = huge_page_size();
  // The huge-page spans inside `kept`: only those can be mapped by a PMD.
  std::vector<uint64_t> spans;
  for (const ByteRange& r : kept.clamp(file.size())) {
    const uint64_t first = (r.begin + h - 1) / h * h, last = r.end / h * h;
    for (uint64_t o = first; o + h <= last && o + h <= file.size(); o += h) spans.push_back(o);
  }
  if (spans.empty()) return rep;
  // Probe spans spread evenly; a span not cached now will be read in a huge page on its first fault anyway
  // (probing it would read it from disk for nothing).
  const size_t n_probe = std::min(spans.size(), static_cast<size_t>(max_probes));
  std::vector<uint64_t> small;
  for (size_t k = 0; k < n_probe; ++k) {
    const uint64_t off = spans[(2 * k + 1) * spans.size() / (2 * n_probe)];
    ByteRanges one;
    one.add(off, h);
    const Residency res = residency(file, one);
    if (!res.exact || res.resident_bytes < h) continue;
    auto huge = span_in_huge_page(file, off);
    if (!huge) return huge.status();
    ++rep.probed;
    if (!*huge) small.push_back(off);
  }
  rep.small = static_cast<int>(small.size());
  if (small.empty() || 2 * small.size() < static_cast<size_t>(rep.probed)) return rep;
  // The trial: does this kernel and file system read a dropped span back as a huge page?
  ByteRanges trial;
  trial.add(small.front(), h);
  if (auto r = release_ranges(file, trial); !r) return r.status();
  rep.trial = true;
  auto huge = span_in_huge_page(file, small.front());
  if (!huge) return huge.status();
  rep.trial_huge = *huge;
  if (!rep.trial_huge) return rep;
  auto dropped = release_ranges(file, kept);
  if (!dropped) return dropped.status();
  rep.dropped_bytes = dropped->bytes;
  return rep;
}

}  // namespace prima::memory
