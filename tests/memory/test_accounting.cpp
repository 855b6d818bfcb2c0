#include <gtest/gtest.h>

#include <vector>

#include "memory/accounting.h"
#include "memory/mapped_file.h"
#include "memory/residency.h"
#include "temp_file.h"

namespace prima::memory {
namespace {

constexpr uint64_t MiB = 1 << 20;

TEST(Accounting, ParsesFakeProc) {
  testing::FakeTree t;
  t.write("/proc/self/io", "rchar: 100\nwchar: 5\nsyscr: 1\nsyscw: 1\nread_bytes: 8192\nwrite_bytes: 0\n");
  t.write("/proc/self/status", "Name:\tprima\nVmRSS:\t  9000 kB\nRssAnon:\t  4000 kB\nRssFile:\t  4900 kB\n"
                               "RssShmem:\t   100 kB\n");
  const ProcessCounters c = sample_process(t.root());
  EXPECT_TRUE(c.has_io);
  EXPECT_EQ(c.read_bytes, 8192u);
  EXPECT_EQ(c.rss_anon, 4000u * 1024);
  EXPECT_EQ(c.rss_file, 4900u * 1024);
  EXPECT_EQ(c.rss_shmem, 100u * 1024);
  MemoryBudget b;
  b.total_bytes = 4100u * 1024 * 10;
  EXPECT_DOUBLE_EQ(memory_pressure(c, b), 0.1);
  EXPECT_EQ(memory_pressure(1, 0), 0.0);

  testing::FakeTree empty;
  const ProcessCounters none = sample_process(empty.root());
  EXPECT_FALSE(none.has_io);
  EXPECT_EQ(delta(none, c).read_bytes, 0u);  // no io on one side: no claim
}

TEST(Accounting, CountersMoveWhenReadingAColdWindow) {
  const std::string dir = testing::disk_temp_dir();
  if (dir.empty()) GTEST_SKIP() << "no disk-backed directory";
  testing::TempFile f(24 * MiB, dir);
  MappedFile m = MappedFile::open(f.path());
  const ProcessCounters before = sample_process();
  const PageIn p = page_in(m, ByteRanges::whole(m.size()));
  const ProcessCounters after = sample_process();
  const CounterDelta d = delta(before, after);
  EXPECT_GT(d.major_faults, 0);
  EXPECT_GE(d.major_faults, p.major_faults);
  if (before.has_io) {
    EXPECT_GE(d.read_bytes, 16 * MiB);  // read-ahead may add more, never much less
  }
  EXPECT_GT(d.seconds, 0.0);
  EXPECT_GE(after.rss_file, before.rss_file + 16 * MiB);
}

TEST(Accounting, AnonymousMemoryIsPressure) {
  const ProcessCounters before = sample_process();
  std::vector<uint8_t> kv(64 * MiB);
  for (size_t i = 0; i < kv.size(); i += 4096) kv[i] = 1;
  const ProcessCounters after = sample_process();
  EXPECT_GE(after.rss_anon, before.rss_anon + 60 * MiB);
  auto b = probe_budget();
  ASSERT_TRUE(b);
  EXPECT_GT(memory_pressure(after, *b), memory_pressure(before, *b));
}

}  // namespace
}  // namespace prima::memory
