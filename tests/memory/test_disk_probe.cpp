#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "memory/disk_probe.h"
#include "memory/mapped_file.h"
#include "memory/residency.h"
#include "temp_file.h"

namespace prima::memory {
namespace {

constexpr uint64_t MiB = 1 << 20;

TEST(DiskProbe, DirectReadsAreBoundedAndLeaveNoCache) {
  const std::string dir = testing::disk_temp_dir();
  if (dir.empty()) GTEST_SKIP() << "no disk-backed directory";
  testing::TempFile f(32 * MiB + 1000, dir);
  struct stat before {};
  ASSERT_EQ(::stat(f.path().c_str(), &before), 0);
  const Stopwatch sw;
  auto p = probe_disk(f.path(), {.seconds = 0.5});
  ASSERT_TRUE(p) << p.status().message();
  EXPECT_LT(sw.elapsed_s(), 2.0);
  EXPECT_EQ(p->file_bytes, 32 * MiB + 1000);
  EXPECT_GT(p->sequential.bytes, 0u);
  EXPECT_EQ(p->sequential.block, 1u << 20);
  ASSERT_EQ(p->random.size(), 3u);
  EXPECT_EQ(p->random[0].block, 4096u);
  for (const auto& r : p->random) EXPECT_GT(r.reads, 0u);
  EXPECT_GT(p->sequential.bytes_per_s(), 0.0);
  struct stat after {};
  ASSERT_EQ(::stat(f.path().c_str(), &after), 0);
  EXPECT_EQ(after.st_size, before.st_size);  // read only
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  if (p->direct) {
    const MappedFile m = MappedFile::open(f.path());
    EXPECT_LT(residency(m, ByteRanges::whole(m.size())).resident_bytes, 2 * MiB) << "O_DIRECT filled the cache";
  }
  std::printf("direct %d: sequential %.0f MB/s, random 4 KiB %.0f IOPS, 1 MiB %.0f MB/s\n", p->direct,
              p->sequential.bytes_per_s() / 1e6, p->random[0].iops(), p->random[2].bytes_per_s() / 1e6);
}

TEST(DiskProbe, TmpfsIsSaidToBeMemory) {
  struct stat st {};
  if (::stat("/dev/shm", &st) != 0) GTEST_SKIP() << "no /dev/shm";
  testing::TempFile f(2 * MiB, "/dev/shm");
  // Before Linux 6.6 tmpfs rejects O_DIRECT (then direct is false); after, it accepts it. Either way the
  // probe must say that this is memory, and stay within its bounds.
  auto p = probe_disk(f.path(), {.seconds = 0.2, .random_blocks = {4096}, .buffered_max_bytes = 4 * MiB});
  ASSERT_TRUE(p) << p.status().message();
  EXPECT_TRUE(p->in_memory);
  EXPECT_NE(p->note.find("tmpfs"), std::string::npos) << p->note;
  if (!p->direct) {
    EXPECT_LE(p->sequential.bytes, 4 * MiB + (1 << 20));
  }
  ASSERT_EQ(p->random.size(), 1u);
}

TEST(DiskProbe, PlainReadsAreCapped) {
  const std::string dir = testing::disk_temp_dir();
  if (dir.empty()) GTEST_SKIP() << "no disk-backed directory";
  testing::TempFile f(8 * MiB, dir);
  auto p = probe_disk(f.path(), {.seconds = 0.3, .random_blocks = {4096, 1u << 20}, .buffered_max_bytes = 2 * MiB,
                                 .try_direct = false});
  ASSERT_TRUE(p) << p.status().message();
  EXPECT_FALSE(p->direct);
  EXPECT_NE(p->note.find("plain reads"), std::string::npos) << p->note;
  EXPECT_LE(p->sequential.bytes, 2 * MiB + (1 << 20));  // stops after the read that crosses the cap
  for (const auto& r : p->random) EXPECT_LE(r.bytes, 2 * MiB + (1 << 20));
}

TEST(DiskProbe, SmallBlocksClampToTheFile) {
  const std::string dir = testing::disk_temp_dir();
  if (dir.empty()) GTEST_SKIP() << "no disk-backed directory";
  testing::TempFile f(3 * 4096 + 17, dir);
  auto p = probe_disk(f.path(), {.seconds = 0.05});
  ASSERT_TRUE(p) << p.status().message();
  EXPECT_EQ(p->sequential.block, 3u * 4096);
  EXPECT_EQ(p->random.back().block, 3u * 4096);
}

TEST(DiskProbe, Errors) {
  EXPECT_FALSE(probe_disk("/nonexistent/model.gguf"));
  const std::string dir = testing::disk_temp_dir();
  testing::TempFile tiny(100, dir.empty() ? "/tmp" : dir);
  auto p = probe_disk(tiny.path());
  ASSERT_FALSE(p);
  EXPECT_NE(p.status().message().find("too small"), std::string::npos);
  EXPECT_FALSE(probe_disk("/proc/self"));
}

}  // namespace
}  // namespace prima::memory
