// Weights in 2 MiB pages (docs/memory.md, "Huge pages").
//
// Decode streams every weight once per token, so how fast the page cache's pages read is the bandwidth the
// kernels get. Measured on this host (Zen 4, Linux 6.18, ext4), reading a model file's mapping with 2 threads
// against anonymous 2 MiB pages in the same process (median of 15 passes in turns): the file held in 2 MiB
// page-cache folios, which the kernel then maps with one PMD entry each, 1.007x; the same file held in 4 KiB
// folios, 0.84x. A tg32 of Qwen2.5-7B Q4_K_M read 86 % of the bandwidth limit from a copy in small folios and
// 97 % once it was read back in 2 MiB ones (docs/benchmarks.md).
//
// What the page cache holds is decided when the pages are read: a fault in a mapping advised MADV_HUGEPAGE
// reads a 2 MiB folio on file systems with large folios (ext4 since 6.16, XFS), but a file written or copied
// recently (a download, `cp`, `prima synth`) stays cached in the small folios its writes made, and
// MADV_COLLAPSE of a read-only file needs CONFIG_READ_ONLY_THP_FOR_FS (EINVAL here). So the only way to
// 2 MiB pages is to drop such pages and read them again — worth one disk read for weights a device keeps for
// good, and only where a trial shows the kernel then does make 2 MiB pages.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/error.h"
#include "memory/mapped_file.h"
#include "memory/ranges.h"

namespace prima::memory {

// The size of a page-table-level-2 (PMD) page: /sys/kernel/mm/transparent_hugepage/hpage_pmd_size, else 2 MiB
// (x86-64 and arm64 with 4 KiB pages; 32 MiB with 16 KiB pages).
uint64_t huge_page_size();

// Asks the kernel to back `ranges` of the mapping with huge pages where it can (MADV_HUGEPAGE): faults then read
// PMD-sized folios. Like advise_access, the advice belongs to the mapping: map_only() resets it. A kernel
// without transparent huge pages (EINVAL) is not an error: the advice is then a no-op.
Status advise_huge_pages(const MappedFile& file, const ByteRanges& ranges);

struct HugePageUse {
  uint64_t rss_bytes = 0;  // mapped and present
  uint64_t pmd_bytes = 0;  // of which mapped by PMD entries (FilePmdMapped)
};

// Sums Rss and FilePmdMapped over the mappings of `smaps` (the text of /proc/PID/smaps) that intersect
// [lo, hi). The text is untrusted: lines that do not parse are skipped.
HugePageUse parse_smaps(std::string_view smaps, uint64_t lo, uint64_t hi);

// This process's use of `file`'s mapping, from /proc/self/smaps; nullopt when that cannot be read.
std::optional<HugePageUse> huge_page_use(const MappedFile& file);

// The bytes of `ranges` this process maps with huge-page (PMD) entries now, from the PAGEMAP_SCAN ioctl of
// /proc/self/pagemap (Linux 6.7; a scan of the page tables, well under a millisecond for a 4 GiB model); nullopt
// where the kernel has no such ioctl. (Reading smaps walks every mapping of the process: 2.4 ms per read with
// an 8 GiB model mapped.)
std::optional<uint64_t> huge_mapped_bytes(const MappedFile& file, const ByteRanges& ranges);

// Free memory in blocks of at least `block_bytes` (a power of two), from the text of /proc/buddyinfo (free blocks
// per zone and order); untrusted text, lines that do not parse are skipped.
uint64_t parse_buddyinfo(std::string_view text, uint64_t block_bytes);
// The same for this machine now; nullopt when /proc/buddyinfo cannot be read.
std::optional<uint64_t> free_bytes_in_blocks_of(uint64_t block_bytes);

struct RecacheReport {
  bool supported = true;       // false: no PAGEMAP_SCAN in this kernel, nothing was probed or dropped
  int probed = 0;              // cached huge-page spans of `kept`
  int small = 0;               // of which held in small folios
  bool trial = false;          // a trial drop and re-read was made
  bool trial_huge = false;     // and the span came back in a huge page
  uint64_t dropped_bytes = 0;  // dropped from the page cache besides the trial's, to be read again on first use
  int deferred = 0;            // small spans left for a later start: free memory had no huge pages for them
};

// Brings the kept weights (ranges a device keeps in memory) to huge pages where the page cache holds them in
// small folios. Touches every cached huge-page span of `kept` in the mapping and scans the page tables; when at
// least 1 in 8 is small, drops one and touches it again as a trial; when that comes back as a huge page, drops
// the other small ones, so that their first use reads them back in huge pages (advise_huge_pages must be in
// force on `kept`). It drops no more than free memory has huge pages for (/proc/buddyinfo): a span re-read under
// memory pressure comes back small, and the next start would read it again. Spans not cached are never touched
// (a fault reads them in huge pages anyway); pages another process maps, or dirty ones, stay.
Result<RecacheReport> recache_in_huge_pages(const MappedFile& file, const ByteRanges& kept);

}  // namespace prima::memory
