// The engine's huge pages end to end: a model the page cache holds in small folios (written 4 KiB at a time, as a
// download or `cp` leaves it) is read back in 2 MiB pages by `prima logits`, with the same logits; with
// --huge-pages off it is left as it is.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "memory/advise.h"
#include "memory/huge_pages.h"
#include "memory/mapped_file.h"
#include "memory/residency.h"
#include "run_cli.h"
#include "temp_file.h"

using namespace prima;

namespace {

const std::string kModel = std::string(PRIMA_FIXTURES_DIR) + "/models/tiny-llama-gqa-F32.gguf";  // 13 MB

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Of the whole huge pages in the file's middle (the weights; the header and the last partial page aside), how
// many bytes a fresh mapping of it maps by huge-page entries once touched.
uint64_t huge_bytes_now(const std::string& path) {
  const memory::MappedFile m = memory::MappedFile::open(path);
  const uint64_t h = memory::huge_page_size();
  memory::ByteRanges mid;
  mid.add(h, (m.size() / h - 1) * h - h);
  (void)memory::page_in(m, mid);
  return memory::huge_mapped_bytes(m, mid).value_or(0);
}

class HugePagesCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = memory::testing::disk_temp_dir();
    if (dir_.empty()) GTEST_SKIP() << "no disk-backed directory";
    // Can this kernel and file system read a dropped span back in a huge page at all?
    const memory::testing::SmallFolioFile probe(slurp(kModel), dir_);
    const memory::MappedFile m = memory::MappedFile::open(probe.path());
    if (!memory::can_observe_page_cache(m)) GTEST_SKIP() << "mincore cannot see the page cache of our own file";
    const uint64_t h = memory::huge_page_size();
    memory::ByteRanges span;
    span.add(h, h);
    ASSERT_TRUE(memory::advise_huge_pages(m, span));
    ASSERT_TRUE(memory::page_in(m, span).completed);
    const auto before = memory::huge_mapped_bytes(m, span);
    if (!before) GTEST_SKIP() << "no PAGEMAP_SCAN in this kernel";
    ASSERT_EQ(*before, 0u) << "4 KiB writes should leave 4 KiB folios";
    ASSERT_TRUE(memory::release_ranges(m, span));
    ASSERT_TRUE(memory::page_in(m, span).completed);
    if (memory::huge_mapped_bytes(m, span).value_or(0) != h)
      GTEST_SKIP() << "this kernel or file system reads no huge folios (or free memory has no 2 MiB blocks)";
  }
  std::string dir_;
};

TEST_F(HugePagesCli, LogitsReadsSmallFoliosBackInHugePagesWithTheSameLogits) {
  const uint64_t h = memory::huge_page_size();
  const std::string ref_out = ::testing::TempDir() + "/huge_ref.f32", out = ::testing::TempDir() + "/huge_copy.f32";
  const std::vector<std::string> tail = {"--tokens", "1 403 407 261 88", "--mode", "seq", "-t", "2"};
  auto args = [&](const std::string& model, const std::string& o) {
    std::vector<std::string> a = {"logits", "-m", model, "-o", o};
    a.insert(a.end(), tail.begin(), tail.end());
    return a;
  };
  const auto ref = test::run_prima(args(kModel, ref_out));
  ASSERT_EQ(ref.exit_code, 0) << ref.err;

  const memory::testing::SmallFolioFile copy(slurp(kModel), dir_);
  ASSERT_EQ(huge_bytes_now(copy.path()), 0u);
  const auto r = test::run_prima(args(copy.path(), out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("read them back in huge pages on first use"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(out), slurp(ref_out)) << "the logits must not change";
  EXPECT_GE(huge_bytes_now(copy.path()), 2 * h) << "the page cache keeps the huge pages for later starts";

  // A second start finds them huge and reads nothing again.
  const auto again = test::run_prima(args(copy.path(), out));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.err.find("read them back in huge pages"), std::string::npos) << again.err;
  EXPECT_EQ(slurp(out), slurp(ref_out));
}

TEST_F(HugePagesCli, OffLeavesThePagesAsTheyAre) {
  const memory::testing::SmallFolioFile copy(slurp(kModel), dir_);
  const auto r = test::run_prima({"bench", "-m", copy.path(), "-p", "0", "-n", "1", "-r", "1", "--no-roofline",
                                  "--huge-pages", "off"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("huge pages"), std::string::npos) << r.err;
  EXPECT_EQ(huge_bytes_now(copy.path()), 0u);
}

}  // namespace
