// Byte ranges of a file: the tensors of a layer window, as the model gives them, turned into what the kernel
// works on. A ByteRanges is always sorted, merged (no two ranges overlap or touch) and page-aligned: each
// added [offset, offset + size) is widened to whole pages, so that madvise / posix_fadvise / mincore can be
// called on it directly. Offsets are into the file (not addresses); a MappedFile turns them into pointers.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace prima::memory {

// The kernel's page size (sysconf(_SC_PAGESIZE)): 4 KiB on x86-64, 4 or 16 KiB on arm64.
uint64_t page_size();

struct ByteRange {
  uint64_t begin = 0;  // first byte, a multiple of the page size
  uint64_t end = 0;    // one past the last byte, a multiple of the page size
  uint64_t size() const { return end - begin; }
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

class ByteRanges {
 public:
  ByteRanges() = default;
  // [0, size) rounded up to whole pages: all of a file.
  static ByteRanges whole(uint64_t size);

  // Adds [offset, offset + size), widened to page boundaries and merged with what is there. size 0 adds
  // nothing. offset + size must not overflow (the caller has checked the tensor against the file).
  void add(uint64_t offset, uint64_t size);
  void add(const ByteRanges& other);

  bool empty() const { return ranges_.empty(); }
  size_t count() const { return ranges_.size(); }
  uint64_t bytes() const;  // total bytes covered (whole pages)
  std::span<const ByteRange> ranges() const { return ranges_; }
  std::vector<ByteRange>::const_iterator begin() const { return ranges_.begin(); }
  std::vector<ByteRange>::const_iterator end() const { return ranges_.end(); }

  // True when every byte of [offset, offset + size) is covered.
  bool contains(uint64_t offset, uint64_t size) const;
  // Set operations; the results are again sorted, merged and page-aligned.
  ByteRanges intersect(const ByteRanges& other) const;
  ByteRanges subtract(const ByteRanges& other) const;
  // The part that lies in a file of `file_size` bytes (its last partial page included).
  ByteRanges clamp(uint64_t file_size) const { return intersect(whole(file_size)); }

  std::string to_string() const;  // "[0x0, 0x2000) [0x5000, 0x6000)" (for logs and test failures)
  friend bool operator==(const ByteRanges&, const ByteRanges&) = default;

 private:
  std::vector<ByteRange> ranges_;
};

}  // namespace prima::memory
