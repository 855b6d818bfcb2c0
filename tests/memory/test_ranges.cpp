#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "memory/ranges.h"

namespace prima::memory {
namespace {

const uint64_t P = page_size();

std::vector<ByteRange> list(const ByteRanges& r) { return {r.begin(), r.end()}; }

TEST(ByteRanges, WidensToWholePages) {
  ByteRanges r;
  r.add(1, 1);
  EXPECT_EQ(list(r), (std::vector<ByteRange>{{0, P}}));
  r.add(3 * P - 1, 2);  // straddles a page boundary
  EXPECT_EQ(list(r), (std::vector<ByteRange>{{0, P}, {2 * P, 4 * P}}));
  EXPECT_EQ(r.bytes(), 3 * P);
}

TEST(ByteRanges, EmptyAddIsNothing) {
  ByteRanges r;
  r.add(12345, 0);
  EXPECT_TRUE(r.empty());
  EXPECT_EQ(r.bytes(), 0u);
  EXPECT_EQ(r.to_string(), "(empty)");
}

TEST(ByteRanges, MergesOverlappingAndTouching) {
  ByteRanges r;
  r.add(4 * P, P);
  r.add(0, P);
  r.add(8 * P, 2 * P);
  EXPECT_EQ(r.count(), 3u);           // sorted whatever the insertion order
  EXPECT_EQ(r.ranges()[0].begin, 0u);
  r.add(P, P);                        // touches [0, P): merged
  EXPECT_EQ(r.count(), 3u);
  EXPECT_EQ(r.ranges()[0], (ByteRange{0, 2 * P}));
  r.add(2 * P + 7, 7 * P);            // overlaps [4P,5P) and [8P,10P), touches [0,2P): everything merges
  EXPECT_EQ(list(r), (std::vector<ByteRange>{{0, 10 * P}}));
}

TEST(ByteRanges, ContainsAndClamp) {
  ByteRanges r;
  r.add(P, 2 * P);
  EXPECT_TRUE(r.contains(P, 2 * P));
  EXPECT_TRUE(r.contains(P + 5, 10));
  EXPECT_FALSE(r.contains(0, P + 1));
  EXPECT_FALSE(r.contains(2 * P, 2 * P));
  EXPECT_TRUE(r.contains(99 * P, 0));
  // A file of 2P + 100 bytes keeps its last partial page.
  EXPECT_EQ(list(ByteRanges::whole(10 * P).clamp(2 * P + 100)), (std::vector<ByteRange>{{0, 3 * P}}));
  EXPECT_EQ(list(r.clamp(P)), (std::vector<ByteRange>{}));
}

TEST(ByteRanges, SetOperations) {
  ByteRanges a, b;
  a.add(0, 4 * P);
  a.add(6 * P, 4 * P);  // [0,4) [6,10)
  b.add(2 * P, 6 * P);  // [2,8)
  EXPECT_EQ(list(a.intersect(b)), (std::vector<ByteRange>{{2 * P, 4 * P}, {6 * P, 8 * P}}));
  EXPECT_EQ(list(a.subtract(b)), (std::vector<ByteRange>{{0, 2 * P}, {8 * P, 10 * P}}));
  EXPECT_EQ(list(b.subtract(a)), (std::vector<ByteRange>{{4 * P, 6 * P}}));
  EXPECT_TRUE(a.subtract(a).empty());
  EXPECT_EQ(a.intersect(ByteRanges{}), ByteRanges{});
}

// Random ranges against a page bitmap.
TEST(ByteRanges, MatchesBitmapReference) {
  std::mt19937 rng(7);
  constexpr int kPages = 64;
  auto to_bits = [&](const ByteRanges& r) {
    std::vector<bool> bits(kPages + 2, false);
    for (const auto& x : r) {
      EXPECT_EQ(x.begin % P, 0u);
      EXPECT_EQ(x.end % P, 0u);
      EXPECT_LT(x.begin, x.end);
      for (uint64_t p = x.begin / P; p < x.end / P; ++p) bits[p] = true;
    }
    for (size_t i = 1; i < r.count(); ++i) EXPECT_LT(r.ranges()[i - 1].end, r.ranges()[i].begin) << r.to_string();
    return bits;
  };
  for (int iter = 0; iter < 300; ++iter) {
    ByteRanges a, b;
    std::vector<bool> ra(kPages + 2, false), rb(kPages + 2, false);
    for (auto* pair : {&a, &b}) {
      auto& ref = pair == &a ? ra : rb;
      const int n = static_cast<int>(rng() % 8);
      for (int i = 0; i < n; ++i) {
        const uint64_t off = rng() % (kPages * P), size = rng() % (8 * P);
        pair->add(off, size);
        if (size > 0)
          for (uint64_t p = off / P; p < (off + size + P - 1) / P; ++p) ref[p] = true;
      }
    }
    ASSERT_EQ(to_bits(a), ra) << a.to_string();
    std::vector<bool> inter(kPages + 2), diff(kPages + 2), uni(kPages + 2);
    for (int p = 0; p < kPages + 2; ++p) {
      inter[p] = ra[p] && rb[p];
      diff[p] = ra[p] && !rb[p];
      uni[p] = ra[p] || rb[p];
    }
    ASSERT_EQ(to_bits(a.intersect(b)), inter);
    ASSERT_EQ(to_bits(a.subtract(b)), diff);
    ByteRanges u = a;
    u.add(b);
    ASSERT_EQ(to_bits(u), uni);
  }
}

}  // namespace
}  // namespace prima::memory
