// Huge pages for the weights (memory/huge_pages.h): the smaps parser, the aligned mapping, and re-reading a file
// the page cache holds in small folios, on a real temporary file (only this file's cache is ever dropped).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <vector>

#include "memory/advise.h"
#include "memory/huge_pages.h"
#include "memory/mapped_file.h"
#include "memory/residency.h"
#include "retry.h"
#include "temp_file.h"

namespace prima::memory {
namespace {

constexpr uint64_t KiB = 1024, MiB = 1 << 20;

TEST(HugePages, ParseSmapsSumsTheMappingsThatIntersectTheRange) {
  const std::string smaps =
      "7f0000000000-7f0000200000 r--s 00000000 fe:01 12 /models/m.gguf\n"  // before the range
      "Rss:                2048 kB\n"
      "FilePmdMapped:      2048 kB\n"
      "7f0000200000-7f0000a00000 r--s 00200000 fe:01 12 /models/m.gguf\n"  // inside
      "Size:               8192 kB\n"
      "Rss:                6144 kB\n"
      "FilePmdMapped:      4096 kB\n"
      "VmFlags: rd sh mr mw me ms hg\n"
      "7f0000a00000-7f0000c00000 ---p 00000000 00:00 0 \n"  // straddles the end
      "Rss:                   4 kB\n"
      "FilePmdMapped:         0 kB\n"
      "7f0000c00000-7f0001000000 r--s 00c00000 fe:01 12 /models/m.gguf\n"  // after
      "Rss:                4096 kB\n"
      "FilePmdMapped:      4096 kB\n";
  const HugePageUse u = parse_smaps(smaps, 0x7f0000200000, 0x7f0000b00000);
  EXPECT_EQ(u.rss_bytes, (6144 + 4) * KiB);
  EXPECT_EQ(u.pmd_bytes, 4096 * KiB);
  EXPECT_EQ(parse_smaps(smaps, 0x7e0000000000, 0x7e0000001000).rss_bytes, 0u);
}

TEST(HugePages, ParseSmapsSkipsWhatDoesNotParse) {
  const std::string smaps =
      "zz-7f0000200000 r--s 00000000 fe:01 12 /m\n"  // bad start: the lines after belong to no mapping
      "Rss:                2048 kB\n"
      "7f0000200000-7f0000400000 r--s 00000000 fe:01 12 /m\n"
      "Rss:                 -12 kB\n"
      "FilePmdMapped:   99999999999999999999999 kB\n"
      "Rss 8 kB\n"                    // no colon
      "FilePmdMapped:      2048 kB\n"
      "7f0000400000-7f0000300000 r--s 00000000 fe:01 12 /m\n"  // end before start
      "Rss:                4096 kB\n"
      "\n\n:::\n-\n";
  const HugePageUse u = parse_smaps(smaps, 0, ~uint64_t{0});
  EXPECT_EQ(u.rss_bytes, 0u);
  EXPECT_EQ(u.pmd_bytes, 2048 * KiB);
}

TEST(HugePages, BuddyinfoCountsTheFreeBlocksOfAtLeastTheSize) {
  const std::string text =
      "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n"
      "Node 0, zone    DMA32      4      4      3      4      7      7      6      5      6      4    748 \n"
      "Node 0, zone   Normal   4374   5753   2868   1448    965    812    423    313    125    116   1298 \n"
      "Node 1, zone   Normal   1 2 x 4\n"        // garbage: skipped
      "Node 1, zone   Normal   99999999999999999999 1\n"
      "garbage\n";
  const uint64_t p = page_size();
  // Blocks of 512 pages and more: orders 9 and 10.
  EXPECT_EQ(parse_buddyinfo(text, 512 * p), ((1 + 4 + 116) * 512 + (3 + 748 + 1298) * 1024) * p);
  EXPECT_EQ(parse_buddyinfo(text, 1024 * p), (3 + 748 + 1298) * 1024 * p);
  EXPECT_EQ(parse_buddyinfo(text, 2048 * p), 0u);
  EXPECT_EQ(parse_buddyinfo("", 512 * p), 0u);
  EXPECT_TRUE(free_bytes_in_blocks_of(huge_page_size()).has_value());
}

TEST(HugePages, TheSizeIsAPowerOfTwoOfPages) {
  const uint64_t h = huge_page_size();
  EXPECT_GE(h, page_size());
  EXPECT_EQ(h & (h - 1), 0u);
}

class HugePageCache : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::disk_temp_dir();
    if (dir_.empty()) GTEST_SKIP() << "no disk-backed directory for page-cache tests";
    h_ = huge_page_size();
  }
  bool intact(const MappedFile& m) const {
    for (uint64_t off = 0; off + 8 <= m.size(); off += 4 * KiB + 8) {
      uint64_t v;
      std::memcpy(&v, m.data() + off, 8);
      if (v != testing::pattern_at(off)) return false;
    }
    return true;
  }
  // Drops the first n huge pages of `m` and reads them again: in huge pages where the kernel can. "" when they
  // came back huge, else why not.
  std::string reread_front_huge(const MappedFile& m, uint64_t n) const {
    ByteRanges front;
    front.add(0, n * h_);
    if (!release_ranges(m, front) || !page_in(m, front).completed) {
      ADD_FAILURE() << "cannot drop and read back " << m.path();
      return "failed";
    }
    const auto huge = huge_mapped_bytes(m, front);
    if (!huge) return "no PAGEMAP_SCAN in this kernel";
    if (*huge < n * h_) return "this kernel or file system reads no large folios";
    return "";
  }
  std::string dir_;
  uint64_t h_ = 0;
};

// A file of pattern_at() content in 4 KiB folios.
struct SmallFolio : testing::SmallFolioFile {
  SmallFolio(uint64_t bytes, const std::string& dir) : SmallFolioFile(testing::pattern_bytes(bytes), dir) {}
};

TEST_F(HugePageCache, TheMappingIsAlignedToTheHugePage) {
  const testing::TempFile big(3 * h_ + 100, dir_), small(100, dir_);
  const MappedFile a = MappedFile::open(big.path()), b = MappedFile::open(small.path());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % h_, 0u);
  EXPECT_TRUE(intact(a));
  EXPECT_EQ(b.size(), 100u);
  uint64_t v;
  std::memcpy(&v, b.data(), 8);
  EXPECT_EQ(v, testing::pattern_at(0));
}

TEST_F(HugePageCache, ProbesOnlyWhatIsCached) {
  const testing::TempFile f(4 * h_, dir_);  // cold
  const MappedFile m = MappedFile::open(f.path());
  if (!can_observe_page_cache(m)) GTEST_SKIP() << "mincore cannot see the page cache of our own file";
  auto rep = recache_in_huge_pages(m, ByteRanges::whole(m.size()));
  ASSERT_TRUE(rep) << rep.status().message();
  EXPECT_EQ(rep->probed, 0);
  EXPECT_FALSE(rep->trial);
  EXPECT_EQ(rep->dropped_bytes, 0u);
  EXPECT_EQ(residency(m, ByteRanges::whole(m.size())).resident_bytes, 0u) << "probing must not read the file";
}

TEST_F(HugePageCache, SmallPagesAreReadBackHugeOnceAndOnlyOnce) {
  test::with_retries(3, [&] {  // exact residency: see retry.h
    const SmallFolio f(4 * h_ + 12 * KiB, dir_);
    const MappedFile m = MappedFile::open(f.path());
    if (!can_observe_page_cache(m)) GTEST_SKIP() << "mincore cannot see the page cache of our own file";
    const ByteRanges all = ByteRanges::whole(m.size());
    ASSERT_TRUE(advise_huge_pages(m, all));
    if (!huge_mapped_bytes(m, all)) GTEST_SKIP() << "no PAGEMAP_SCAN in this kernel";
    ByteRanges span1;
    span1.add(h_, h_);
    ASSERT_TRUE(page_in(m, span1).completed);
    EXPECT_EQ(huge_mapped_bytes(m, span1), 0u) << "4 KiB writes should leave 4 KiB folios in the page cache";

    auto rep = recache_in_huge_pages(m, all);
    ASSERT_TRUE(rep) << rep.status().message();
    EXPECT_TRUE(rep->supported);
    EXPECT_TRUE(rep->trial);
    if (!rep->trial_huge) {
      EXPECT_EQ(rep->dropped_bytes, 0u) << "nothing is dropped when the trial stays small";
      GTEST_SKIP() << "this kernel or file system reads no large folios: nothing more to check";
    }
    // The 4 whole huge pages of the file, all small: the trial's comes back huge, the other 3 are dropped.
    EXPECT_EQ(rep->probed, 4);
    EXPECT_EQ(rep->small, 4);
    if (rep->deferred > 0) GTEST_SKIP() << "free memory has no huge pages now";
    EXPECT_EQ(rep->dropped_bytes, 3 * h_);
    EXPECT_EQ(residency(m, all).resident_bytes, all.bytes() - 3 * h_);

    ASSERT_TRUE(page_in(m, all).completed);  // first use: read back, now in huge pages
    EXPECT_TRUE(intact(m));
    EXPECT_EQ(huge_mapped_bytes(m, all), 4 * h_);
    const auto use = huge_page_use(m);  // smaps agrees
    ASSERT_TRUE(use.has_value());
    EXPECT_EQ(use->pmd_bytes, 4 * h_) << "rss " << use->rss_bytes;
    EXPECT_EQ(use->rss_bytes, all.bytes());

    // Now huge: a second start probes, finds nothing to do, and reads nothing again.
    auto again = recache_in_huge_pages(m, all);
    ASSERT_TRUE(again) << again.status().message();
    EXPECT_EQ(again->probed, 4);
    EXPECT_EQ(again->small, 0);
    EXPECT_FALSE(again->trial);
    EXPECT_EQ(again->dropped_bytes, 0u);
  });
}

TEST_F(HugePageCache, OnlyTheSmallSpansOfAPartlyHugeFileAreDropped) {
  test::with_retries(3, [&] {  // exact residency: see retry.h
    const SmallFolio f(6 * h_, dir_);
    const MappedFile m = MappedFile::open(f.path());
    if (!can_observe_page_cache(m)) GTEST_SKIP() << "mincore cannot see the page cache of our own file";
    const ByteRanges all = ByteRanges::whole(m.size());
    ASSERT_TRUE(advise_huge_pages(m, all));
    // Spans 0..3 read again (huge, where the kernel can), 4 and 5 left small.
    if (const std::string why = reread_front_huge(m, 4); !why.empty()) GTEST_SKIP() << why;
    ByteRanges front;
    front.add(0, 4 * h_);
    auto rep = recache_in_huge_pages(m, all);
    ASSERT_TRUE(rep) << rep.status().message();
    if (!rep->trial_huge || rep->deferred > 0) GTEST_SKIP() << "free memory has no huge pages now";
    EXPECT_EQ(rep->probed, 6);
    EXPECT_EQ(rep->small, 2);  // 4 and 5; the trial re-read one of them, the other is dropped
    EXPECT_EQ(rep->dropped_bytes, h_);
    EXPECT_EQ(residency(m, front).resident_bytes, 4 * h_) << "huge spans are not dropped";
    EXPECT_EQ(residency(m, all).resident_bytes, all.bytes() - h_);
    EXPECT_TRUE(intact(m));
  });
}

TEST_F(HugePageCache, AFewSmallSpansAreLeftAlone) {
  test::with_retries(3, [&] {  // exact residency: see retry.h
    const SmallFolio f(10 * h_, dir_);
    const MappedFile m = MappedFile::open(f.path());
    if (!can_observe_page_cache(m)) GTEST_SKIP() << "mincore cannot see the page cache of our own file";
    const ByteRanges all = ByteRanges::whole(m.size());
    ASSERT_TRUE(advise_huge_pages(m, all));
    if (const std::string why = reread_front_huge(m, 9); !why.empty()) GTEST_SKIP() << why;
    auto rep = recache_in_huge_pages(m, all);  // 1 small span of 10: under 1 in 8
    ASSERT_TRUE(rep) << rep.status().message();
    EXPECT_EQ(rep->probed, 10);
    EXPECT_EQ(rep->small, 1);
    EXPECT_FALSE(rep->trial);
    EXPECT_EQ(rep->dropped_bytes, 0u);
    EXPECT_EQ(residency(m, all).resident_bytes, all.bytes());
  });
}

}  // namespace
}  // namespace prima::memory
