#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "memory/release_policy.h"

namespace prima::memory {
namespace {

TEST(ReleasePolicy, NeverReleasesWhatFits) {
  const std::vector<uint64_t> w = {100, 100, 100};
  const ReleasePlan p = plan_release(300, w);
  EXPECT_FALSE(p.release);
  EXPECT_EQ(p.release_window, (std::vector<bool>{false, false, false}));
  EXPECT_EQ(p.kept_bytes, 300u);
  EXPECT_EQ(p.streamed_bytes, 0u);
  EXPECT_TRUE(p.pair_fits);
}

TEST(ReleasePolicy, KeepsWhatItCanAndStreamsTheRest) {
  // Four equal windows, room for 3.5: keeping two alternate windows leaves each streamed window a kept
  // successor, so the slot is one window: 200 kept + 100 slot fits, 200 read per cycle.
  const std::vector<uint64_t> w = {100, 100, 100, 100};
  const ReleasePlan p = plan_release(350, w);
  EXPECT_TRUE(p.release);
  EXPECT_EQ(p.kept_bytes, 200u);
  EXPECT_EQ(p.streamed_bytes, 200u);
  EXPECT_EQ(p.slot_bytes, 100u);
  EXPECT_TRUE(p.pair_fits);
  EXPECT_NE(p.release_window[0], p.release_window[1]);  // alternate
  EXPECT_NE(p.release_window[1], p.release_window[2]);
}

TEST(ReleasePolicy, MaximisesKeptBytesNotWindows) {
  const std::vector<uint64_t> w = {10, 10, 45, 45};
  const ReleasePlan p = plan_release(100, w);
  EXPECT_EQ(p.kept_bytes, 55u);  // one small and one large window, not the two small ones
  EXPECT_EQ(p.streamed_bytes, 55u);
  EXPECT_LE(p.kept_bytes + p.slot_bytes, 100u);
}

TEST(ReleasePolicy, TooSmallForAnyWindowPair) {
  const std::vector<uint64_t> one = {500};
  const ReleasePlan k1 = plan_release(400, one);  // k = 1 on a device too small for its layers
  EXPECT_TRUE(k1.release);
  EXPECT_EQ(k1.release_window, (std::vector<bool>{true}));
  EXPECT_EQ(k1.kept_bytes, 0u);
  EXPECT_FALSE(k1.pair_fits);
  const std::vector<uint64_t> big = {150, 150, 150};
  EXPECT_FALSE(plan_release(200, big).pair_fits);
  EXPECT_FALSE(plan_release(400, std::vector<uint64_t>{}).release);
}

TEST(ReleasePolicy, ManyWindowsUseTheGreedySplit) {
  const std::vector<uint64_t> w(20, 10);
  const ReleasePlan p = plan_release(100, w);
  EXPECT_TRUE(p.release);
  EXPECT_TRUE(p.pair_fits);
  EXPECT_LE(p.kept_bytes + p.slot_bytes, 100u);
  EXPECT_GE(p.kept_bytes, 70u);
  EXPECT_EQ(p.kept_bytes + p.streamed_bytes, 200u);
}

// Exhaustive and greedy splits are always feasible when they claim so, and keep at most the budget.
TEST(ReleasePolicy, RandomSplitsAreFeasible) {
  std::mt19937 rng(11);
  for (int iter = 0; iter < 300; ++iter) {
    std::vector<uint64_t> w(1 + rng() % 20);
    for (auto& x : w) x = 1 + rng() % 100;
    const uint64_t budget = rng() % 1200;
    const ReleasePlan p = plan_release(budget, w);
    ASSERT_EQ(p.release_window.size(), w.size());
    uint64_t kept = 0;
    for (size_t i = 0; i < w.size(); ++i)
      if (!p.release_window[i]) kept += w[i];
    EXPECT_EQ(kept, p.kept_bytes);
    if (p.release && p.pair_fits) {
      EXPECT_LE(p.kept_bytes + p.slot_bytes, budget);
    }
    if (p.release) {
      EXPECT_GT(p.streamed_bytes, 0u);
    }
  }
}

}  // namespace
}  // namespace prima::memory
