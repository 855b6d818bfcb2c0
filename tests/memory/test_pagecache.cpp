// Prefetch, release and residency on a real temporary file (tens of MiB, on a disk-backed file system; only
// this file's cache is ever dropped).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <chrono>
#include <thread>

#include "core/clock.h"
#include "memory/advise.h"
#include "memory/mapped_file.h"
#include "memory/prefetcher.h"
#include "memory/residency.h"
#include "retry.h"
#include "temp_file.h"

namespace prima::memory {
namespace {

using namespace std::chrono_literals;
using testing::TempFile;
constexpr uint64_t MiB = 1 << 20;
constexpr uint64_t kFileBytes = 32 * MiB + 100;  // a partial last page on purpose

class PageCache : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string dir = testing::disk_temp_dir();
    if (dir.empty()) GTEST_SKIP() << "no disk-backed directory for page-cache tests";
    open_cold_file(dir);
    if (!can_observe_page_cache(map_)) GTEST_SKIP() << "mincore cannot see the page cache of our own file";
    ASSERT_LT(resident(all()), 4 * MiB) << "the new file should start cold";
  }
  void open_cold_file(const std::string& dir) {
    map_ = MappedFile{};
    file_ = std::make_unique<TempFile>(kFileBytes, dir);
    map_ = MappedFile::open(file_->path());
  }
  // Residency checks retry on a fresh cold file: see retry.h (this VM's DAMON pages out our pages).
  template <class Body>
  void with_retries(Body body) {
    test::with_retries(3, body, [this] { open_cold_file(testing::disk_temp_dir()); });
  }
  ByteRanges all() const { return ByteRanges::whole(map_.size()); }
  uint64_t resident(const ByteRanges& r) const { return residency(map_, r).resident_bytes; }
  // Read-ahead completes asynchronously: poll.
  bool eventually_resident(const ByteRanges& r, std::chrono::milliseconds timeout = 5000ms) const {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      if (resident(r) == r.clamp(map_.size()).bytes()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
  std::unique_ptr<TempFile> file_;
  MappedFile map_;
};

TEST_F(PageCache, PageInMakesResidentAndCountsMajorFaults) {
  with_retries([&] {
    ByteRanges w;
    w.add(4 * MiB, 8 * MiB);
    const PageIn cold = page_in(map_, w);
    EXPECT_TRUE(cold.completed);
    EXPECT_EQ(cold.bytes, 8 * MiB);
    EXPECT_GT(cold.major_faults, 0);
    EXPECT_EQ(resident(w), 8 * MiB);
    const PageIn warm = page_in(map_, w);
    EXPECT_EQ(warm.major_faults, 0);
    EXPECT_LT(warm.wait_ns, cold.wait_ns);
    const Residency r = residency(map_, w);
    EXPECT_TRUE(r.exact);
    EXPECT_EQ(r.bytes, 8 * MiB);
  });
}

TEST_F(PageCache, PageInStopsWhenCancelled) {
  std::atomic<bool> cancel{true};
  const PageIn p = page_in(map_, all(), &cancel);
  EXPECT_FALSE(p.completed);
  EXPECT_EQ(p.bytes, 0u);
}

TEST_F(PageCache, ReleaseFreesThePageCache) {
  with_retries([&] {
    page_in(map_, all());
    ASSERT_EQ(resident(all()), all().bytes());
    ByteRanges first;
    first.add(0, 16 * MiB);
    auto st = release_ranges(map_, first);
    ASSERT_TRUE(st) << st.status().message();
    EXPECT_EQ(st->bytes, 16 * MiB);
    EXPECT_EQ(resident(first), 0u);
    EXPECT_EQ(resident(all().subtract(first)), all().bytes() - 16 * MiB);  // the rest stays
    // Pointers stay valid: the released pages read back from disk with the right content.
    EXPECT_EQ(*reinterpret_cast<const uint64_t*>(map_.data() + 8 * MiB), testing::pattern_at(8 * MiB));
  });
}

TEST_F(PageCache, WillneedReadsWholeRangesInChunks) {
  with_retries([&] {
    ByteRanges w;
    w.add(MiB, 24 * MiB);
    auto st = advise_willneed(map_, w);
    ASSERT_TRUE(st) << st.status().message();
    EXPECT_EQ(st->bytes, 24 * MiB);
    EXPECT_TRUE(eventually_resident(w)) << resident(w) / MiB << " MiB resident";
  });
}

TEST_F(PageCache, SequentialAccessDoesNotReadBehindAFault) {
  with_retries([&] {
    ByteRanges w, before;
    w.add(16 * MiB, 8 * MiB);
    before.add(8 * MiB, 8 * MiB);
    ASSERT_TRUE(advise_access(map_, all(), Access::sequential));
    page_in(map_, w);
    EXPECT_EQ(resident(w), 8 * MiB);
    EXPECT_EQ(resident(before), 0u);  // default advice would read around the first fault, behind it too
    ASSERT_TRUE(advise_access(map_, all(), Access::random));
    ASSERT_TRUE(advise_access(map_, all(), Access::normal));
  });
}

TEST_F(PageCache, WillneedStopsWhenCancelled) {
  std::atomic<bool> cancel{true};
  auto st = advise_willneed(map_, all(), 0, &cancel);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->bytes, 0u);
}

TEST_F(PageCache, PrefetchModes) {
  with_retries([&] {
    Prefetcher pf(map_);
    ByteRanges w;
    w.add(0, 8 * MiB);
    const uint64_t id_off = pf.prefetch(w, PrefetchMode::off);
    ASSERT_TRUE(pf.wait(1s));
    EXPECT_EQ(pf.stats().id, id_off);
    EXPECT_EQ(pf.stats().state, PrefetchState::done);
    EXPECT_EQ(pf.stats().bytes_requested, 0u);

    pf.prefetch(w, PrefetchMode::willneed);
    ASSERT_TRUE(pf.wait(5s));
    PrefetchStats s = pf.stats();
    EXPECT_EQ(s.state, PrefetchState::done) << s.error;
    EXPECT_EQ(s.bytes_requested, 8 * MiB);
    EXPECT_EQ(s.bytes_advised, 8 * MiB);
    EXPECT_EQ(s.bytes_touched, 0u);
    EXPECT_TRUE(eventually_resident(w));

    ByteRanges rest = all().subtract(w);
    const uint64_t id = pf.prefetch(rest, PrefetchMode::touch);
    ASSERT_TRUE(pf.wait(10s));
    s = pf.stats();
    EXPECT_EQ(s.id, id);
    EXPECT_EQ(s.state, PrefetchState::done);
    EXPECT_EQ(s.bytes_touched, rest.bytes());
    EXPECT_GT(s.elapsed_ns, 0);
    EXPECT_EQ(resident(rest), rest.bytes());  // touch: in when prefetch says done, no polling

    auto rel = pf.release(all());
    ASSERT_TRUE(rel);
    EXPECT_EQ(resident(all()), 0u);
  });
}

TEST_F(PageCache, NewerPrefetchAndCancelStopTheThread) {
  // Small willneed chunks make the job long enough to be caught running.
  Prefetcher pf(map_, {.chunk_bytes = page_size()});
  pf.prefetch(all(), PrefetchMode::touch);
  ByteRanges small;
  small.add(0, MiB);
  const uint64_t id = pf.prefetch(small, PrefetchMode::touch);  // latest wins
  ASSERT_TRUE(pf.wait(10s));
  EXPECT_EQ(pf.stats().id, id);
  EXPECT_EQ(pf.stats().state, PrefetchState::done);
  EXPECT_EQ(pf.stats().bytes_requested, MiB);

  file_->drop_cache();
  pf.prefetch(all(), PrefetchMode::touch);
  const Stopwatch sw;
  pf.cancel();
  EXPECT_LT(sw.elapsed_ms(), 1000.0);
  EXPECT_TRUE(pf.wait(0s));  // nothing runs once cancel() returns
  const PrefetchStats s = pf.stats();
  EXPECT_TRUE(s.state == PrefetchState::cancelled || s.state == PrefetchState::done) << to_string(s.state);
  if (s.state == PrefetchState::cancelled) {
    EXPECT_LT(s.bytes_touched, all().bytes());
  }

  // A release stops a running touch too, and then the window is gone.
  pf.prefetch(all(), PrefetchMode::touch);
  ASSERT_TRUE(pf.release(all()));
  EXPECT_TRUE(pf.wait(0s));
}

TEST_F(PageCache, DestructorStopsARunningPrefetch) {
  const Stopwatch sw;
  {
    Prefetcher pf(map_, {.chunk_bytes = page_size()});
    pf.prefetch(all(), PrefetchMode::touch);
  }
  EXPECT_LT(sw.elapsed_ms(), 2000.0);
}

TEST(PrefetchMode, Parse) {
  EXPECT_EQ(parse_prefetch_mode("off"), PrefetchMode::off);
  EXPECT_EQ(parse_prefetch_mode("on"), PrefetchMode::willneed);
  EXPECT_EQ(parse_prefetch_mode("willneed"), PrefetchMode::willneed);
  EXPECT_EQ(parse_prefetch_mode("touch"), PrefetchMode::touch);
  EXPECT_FALSE(parse_prefetch_mode("Touch"));
  EXPECT_EQ(to_string(PrefetchMode::touch), "touch");
}

TEST(Readahead, ChunkFromSysfs) {
  testing::FakeTree t;
  const int fd = ::open("/proc/self/exe", O_RDONLY);
  ASSERT_GE(fd, 0);
  struct stat st {};
  ASSERT_EQ(::fstat(fd, &st), 0);
  const std::string dev = std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev));
  EXPECT_EQ(readahead_chunk_bytes(fd, t.root()), 128u * 1024);  // nothing known
  t.write("/sys/dev/block/" + dev + "/queue/max_sectors_kb", "1280\n");
  EXPECT_EQ(readahead_chunk_bytes(fd, t.root()), 1280u * 1024);
  t.write("/sys/class/bdi/" + dev + "/read_ahead_kb", "8192\n");
  EXPECT_EQ(readahead_chunk_bytes(fd, t.root()), 8192u * 1024);
  t.write("/sys/class/bdi/" + dev + "/read_ahead_kb", "junk\n");
  EXPECT_EQ(readahead_chunk_bytes(fd, t.root()), 1280u * 1024);
  const uint64_t real = readahead_chunk_bytes(fd);
  EXPECT_GE(real, page_size());
  EXPECT_LE(real, 64u << 20);
  ::close(fd);
}

}  // namespace
}  // namespace prima::memory
