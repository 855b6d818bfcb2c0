// map_only: pointers keep base + offset, owned pages read the file, other pages fault.
#include <gtest/gtest.h>

#include "memory/mapped_file.h"
#include "memory/residency.h"
#include "temp_file.h"

namespace prima::memory {
namespace {

const uint64_t P = page_size();

uint64_t word(const MappedFile& m, uint64_t off) { return *reinterpret_cast<const volatile uint64_t*>(m.data() + off); }

class Mapping : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::disk_temp_dir();
    if (dir_.empty()) dir_ = "/tmp";
    file_ = std::make_unique<testing::TempFile>(16 * P + 123, dir_);
  }
  std::string dir_;
  std::unique_ptr<testing::TempFile> file_;
};

TEST_F(Mapping, OwnedPagesReadTheFileAtTheSameAddresses) {
  MappedFile m = MappedFile::open(file_->path());
  const uint8_t* base = m.data();
  ByteRanges owned;
  owned.add(P, 2 * P);
  owned.add(10 * P, 7 * P);  // runs past the end of the file: clamped
  ASSERT_TRUE(map_only(m, owned));
  EXPECT_EQ(m.data(), base);
  EXPECT_EQ(word(m, P), testing::pattern_at(P));
  EXPECT_EQ(word(m, 3 * P - 8), testing::pattern_at(3 * P - 8));
  EXPECT_EQ(word(m, 16 * P), testing::pattern_at(16 * P));  // the partial last page
  EXPECT_EQ(residency(m, ByteRanges::whole(m.size()).subtract(owned)).resident_bytes, 0u);
}

TEST_F(Mapping, ReplanChangesWhatIsOwned) {
  ByteRanges a, b;
  a.add(0, 4 * P);
  b.add(8 * P, 4 * P);
  MappedFile m = MappedFile::open(file_->path(), a);
  EXPECT_EQ(word(m, 2 * P), testing::pattern_at(2 * P));
  ASSERT_TRUE(map_only(m, b));
  EXPECT_EQ(word(m, 9 * P), testing::pattern_at(9 * P));
  ASSERT_TRUE(map_only(m, ByteRanges::whole(m.size())));  // back to everything
  EXPECT_EQ(word(m, 5 * P), testing::pattern_at(5 * P));
}

using MappingDeathTest = Mapping;

TEST_F(MappingDeathTest, TouchingAPageNotOwnedFaults) {
  // "fast": the child is a fork of this process, no re-run of SetUp (which would create a temp file the dying
  // child never removes). No other thread runs here.
  GTEST_FLAG_SET(death_test_style, "fast");
  ByteRanges owned;
  owned.add(0, P);
  MappedFile m = MappedFile::open(file_->path(), owned);
  EXPECT_EQ(word(m, 0), testing::pattern_at(0));
  EXPECT_DEATH(word(m, 5 * P), "");
}

TEST(MappedFileOpen, EmptyFileAndErrors) {
  EXPECT_THROW(MappedFile::open("/nonexistent/prima-model.gguf"), Error);
  EXPECT_THROW(MappedFile::open("/proc/self"), Error);
}

}  // namespace
}  // namespace prima::memory
