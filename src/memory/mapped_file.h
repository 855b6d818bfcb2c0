// A read-only, shared memory mapping of a whole file. Weights are never copied out of it: pages come in on
// first touch and, being clean file pages, the kernel may drop them at any time (DESIGN.md §1).
//
// Mapping only what a device owns (docs/memory.md): the mapping always spans the whole file at one base
// address, so pointers are base + file offset whatever the device owns (GGUF tensor views stay valid), but
// map_only() can turn every page outside the owned ranges into an inaccessible reservation (PROT_NONE,
// anonymous, no memory behind it). Touching a tensor the device does not own then faults at once (SIGSEGV)
// instead of silently paging it in, and nothing outside the owned ranges can enter our page tables. The
// address space stays reserved, so nothing else is ever mapped there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "core/error.h"
#include "memory/ranges.h"

namespace prima::memory {

class MappedFile {
 public:
  // Maps `path` read-only (MAP_SHARED), at an address aligned to the huge page size when the file spans one
  // (huge_pages.h). Throws prima::Error naming the file on failure.
  static MappedFile open(const std::string& path);
  // Maps `path` the same way, then keeps only `owned` accessible (see map_only). Throws prima::Error.
  static MappedFile open(const std::string& path, const ByteRanges& owned);

  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, static_cast<size_t>(size_)}; }
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  bool is_open() const { return data_ != nullptr || (fd_ >= 0 && size_ == 0); }

 private:
  void close();
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  int fd_ = -1;
};

// Makes exactly the pages of `owned` (clamped to the file) readable views of the file and every other page
// of the mapping an inaccessible reservation; data() and size() do not change. Call it at load time and when
// a re-plan changes what the device owns; pointers into pages that stay owned keep working (their page-table
// entries are rebuilt on the next touch: minor faults, no disk reads). Pointers into pages no longer owned
// must not be used again. Nothing may read the mapping concurrently (cancel a Prefetcher first). A GGUF
// reader keeps views of the metadata, so a device also owns [0, data_offset). An error leaves some pages of
// the mapping inaccessible; the caller should treat the mapping as unusable.
Status map_only(const MappedFile& file, const ByteRanges& owned);

}  // namespace prima::memory
