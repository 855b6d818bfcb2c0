#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "kernels/kernels.h"

namespace prima::kernels {
namespace {

TEST(ThreadPool, EveryThreadRunsOnceWithItsIndex) {
  for (int n = 1; n <= 5; ++n) {
    ThreadPool pool(n);
    EXPECT_EQ(pool.n_threads(), n);
    std::vector<std::atomic<int>> hits(n);
    std::atomic<int> bad_nth{0};
    pool.run([&](int ith, int nth) {
      hits[ith].fetch_add(1);
      if (nth != n) bad_nth.fetch_add(1);
    });
    for (int i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 1) << "n=" << n << " ith=" << i;
    EXPECT_EQ(bad_nth.load(), 0);
  }
}

TEST(ThreadPool, CallerIsThreadZero) {
  ThreadPool pool(3);
  std::thread::id zero;
  pool.run([&](int ith, int) {
    if (ith == 0) zero = std::this_thread::get_id();
  });
  EXPECT_EQ(zero, std::this_thread::get_id());
}

TEST(ThreadPool, ManyRapidRunsCoverAllWork) {
  // Back-to-back runs (the workers never get to sleep) and a split of work that must cover every item once.
  ThreadPool pool(4);
  std::vector<int> items(1000);
  for (int rep = 0; rep < 3000; ++rep) {
    std::atomic<int> next{0};
    pool.run([&](int, int) {
      for (int i; (i = next.fetch_add(1)) < static_cast<int>(items.size());) items[i] += 1;
    });
  }
  for (int v : items) ASSERT_EQ(v, 3000);
}

TEST(ThreadPool, RunsAfterWorkersFellAsleep) {
  // With no spinning, every run wakes sleeping workers (futex path), and the caller sleeps waiting for them.
  ThreadPool pool(3);
  pool.set_spin_us(0);
  std::atomic<int> total{0};
  for (int rep = 0; rep < 2000; ++rep) pool.run([&](int ith, int) { total.fetch_add(ith + 1); });
  EXPECT_EQ(total.load(), 2000 * 6);
  // Let them sleep for real, then run again.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  pool.set_spin_us(50);
  pool.run([&](int ith, int) { total.fetch_add(ith + 1); });
  EXPECT_EQ(total.load(), 2001 * 6);
}

TEST(ThreadPool, UnevenWorkLoadsFinishBeforeRunReturns) {
  ThreadPool pool(3);
  for (int rep = 0; rep < 50; ++rep) {
    std::vector<int> done(3, 0);
    pool.run([&](int ith, int) {
      if (ith == rep % 3) std::this_thread::sleep_for(std::chrono::microseconds(300));
      done[ith] = 1;
    });
    for (int d : done) ASSERT_EQ(d, 1);
  }
}

TEST(ThreadPool, DestroyWhileIdleAndRightAfterRun) {
  for (int i = 0; i < 200; ++i) {
    ThreadPool pool(1 + i % 4);
    if (i % 2) pool.run([](int, int) {});
  }
}

TEST(ThreadPool, ScratchIsAlignedAndGrows) {
  ThreadPool pool(2);
  auto* a = static_cast<unsigned char*>(pool.scratch(100));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 64, 0u);
  a[99] = 1;
  auto* b = static_cast<unsigned char*>(pool.scratch(50));
  EXPECT_EQ(a, b);  // no reallocation when smaller
  auto* c = static_cast<unsigned char*>(pool.scratch(1 << 20));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(c) % 64, 0u);
  c[(1 << 20) - 1] = 1;
}

}  // namespace
}  // namespace prima::kernels

namespace prima::kernels {
namespace {

TEST(ThreadPool, ScratchSlotsAreIndependent) {
  ThreadPool pool(1);
  auto* mine = static_cast<unsigned char*>(pool.scratch(64));
  mine[0] = 7;
  pool.scratch(1 << 20, ThreadPool::kScratchMatmul);  // what a matmul does
  EXPECT_EQ(pool.scratch(64), mine);
  EXPECT_EQ(mine[0], 7);
}

}  // namespace
}  // namespace prima::kernels

namespace prima::kernels {
namespace {

TEST(ThreadPool, RunSharedCoversAllItemsAndMixesWithRun) {
  // Alternate work-sharing runs (late workers skipped) and full runs (every thread must run) back to back,
  // with and without spinning, so that workers get skipped, wake up late, and take part again.
  for (int spin : {0, 50}) {
    ThreadPool pool(3);
    pool.set_spin_us(spin);
    std::vector<int> items(300);
    int full_runs = 0;
    for (int rep = 0; rep < 2000; ++rep) {
      std::atomic<int> next{0};
      pool.run_shared([&](int, int) {
        for (int i; (i = next.fetch_add(1)) < static_cast<int>(items.size());) items[i] += 1;
      });
      if (rep % 3 == 0) {
        std::atomic<int> ran{0};
        pool.run([&](int, int) { ran.fetch_add(1); });
        ASSERT_EQ(ran.load(), 3);
        ++full_runs;
      }
    }
    for (int v : items) ASSERT_EQ(v, 2000);
  }
}

TEST(ThreadPool, RunSharedDoesNotWaitForSleepingWorkers) {
  ThreadPool pool(2);
  pool.set_spin_us(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the worker is asleep
  std::atomic<int> ran_by_worker{0};
  for (int rep = 0; rep < 100; ++rep) {
    pool.run_shared([&](int ith, int) {
      if (ith != 0) {
        ran_by_worker.fetch_add(1);
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    });
  }
  // Whether the worker joined some runs depends on timing; the point is that every run returned and any
  // worker that started finished before its run returned (else the counter could change below).
  const int seen = ran_by_worker.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(ran_by_worker.load(), seen);
}

}  // namespace
}  // namespace prima::kernels
