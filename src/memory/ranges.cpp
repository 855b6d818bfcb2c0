#include "memory/ranges.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace prima::memory {

uint64_t page_size() {
  static const uint64_t page = [] {
    const long p = ::sysconf(_SC_PAGESIZE);
    return p > 0 ? static_cast<uint64_t>(p) : uint64_t{4096};
  }();
  return page;
}

ByteRanges ByteRanges::whole(uint64_t size) {
  ByteRanges r;
  r.add(0, size);
  return r;
}

void ByteRanges::add(uint64_t offset, uint64_t size) {
  if (size == 0) return;
  const uint64_t page = page_size();
  PRIMA_ASSERT(offset <= std::numeric_limits<uint64_t>::max() - size - page);
  ByteRange r{offset / page * page, (offset + size + page - 1) / page * page};
  // First range that ends at or after r.begin (it may touch or overlap r), then swallow every range that
  // begins at or before r.end.
  auto first = std::lower_bound(ranges_.begin(), ranges_.end(), r.begin,
                                [](const ByteRange& x, uint64_t b) { return x.end < b; });
  auto last = first;
  while (last != ranges_.end() && last->begin <= r.end) {
    r.begin = std::min(r.begin, last->begin);
    r.end = std::max(r.end, last->end);
    ++last;
  }
  first = ranges_.erase(first, last);
  ranges_.insert(first, r);
}

void ByteRanges::add(const ByteRanges& other) {
  for (const auto& r : other.ranges_) add(r.begin, r.size());
}

uint64_t ByteRanges::bytes() const {
  uint64_t n = 0;
  for (const auto& r : ranges_) n += r.size();
  return n;
}

bool ByteRanges::contains(uint64_t offset, uint64_t size) const {
  if (size == 0) return true;
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), offset,
                             [](uint64_t o, const ByteRange& x) { return o < x.begin; });
  if (it == ranges_.begin()) return false;
  --it;  // the last range beginning at or before offset; ranges never touch, so it must hold it all
  return offset + size <= it->end;
}

ByteRanges ByteRanges::intersect(const ByteRanges& other) const {
  ByteRanges out;
  size_t i = 0, j = 0;
  while (i < ranges_.size() && j < other.ranges_.size()) {
    const ByteRange& a = ranges_[i];
    const ByteRange& b = other.ranges_[j];
    const uint64_t lo = std::max(a.begin, b.begin), hi = std::min(a.end, b.end);
    if (lo < hi) out.ranges_.push_back({lo, hi});  // already aligned, sorted and disjoint
    (a.end < b.end) ? ++i : ++j;
  }
  return out;
}

ByteRanges ByteRanges::subtract(const ByteRanges& other) const {
  ByteRanges out;
  size_t j = 0;
  for (ByteRange a : ranges_) {
    while (j < other.ranges_.size() && other.ranges_[j].end <= a.begin) ++j;
    size_t k = j;
    while (k < other.ranges_.size() && other.ranges_[k].begin < a.end) {
      const ByteRange& b = other.ranges_[k];
      if (b.begin > a.begin) out.ranges_.push_back({a.begin, b.begin});
      a.begin = std::max(a.begin, b.end);
      if (a.begin >= a.end) break;
      ++k;
    }
    if (a.begin < a.end) out.ranges_.push_back(a);
  }
  return out;
}

std::string ByteRanges::to_string() const {
  std::string s;
  for (const auto& r : ranges_) {
    if (!s.empty()) s += ' ';
    s += fmt::format("[{:#x}, {:#x})", r.begin, r.end);
  }
  return s.empty() ? "(empty)" : s;
}

}  // namespace prima::memory
