#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <random>

#include "sampling/penalties.h"

using namespace prima::sampling;

TEST(PenaltyWindow, RepetitionDividesPositiveAndMultipliesNegativeOncePerToken) {
  PenaltyWindow w(6, 64);
  for (int32_t t : {0, 1, 0, 0, 4}) w.push(t);
  std::vector<float> l = {2.0f, -2.0f, 1.0f, -1.0f, 0.0f, 3.0f};
  w.apply(l, 2.0f, 0.0f, 0.0f);
  EXPECT_FLOAT_EQ(l[0], 1.0f);   // positive: / 2, not / 2^3 for three occurrences
  EXPECT_FLOAT_EQ(l[1], -4.0f);  // negative: * 2
  EXPECT_FLOAT_EQ(l[2], 1.0f);   // not in the window
  EXPECT_FLOAT_EQ(l[3], -1.0f);
  EXPECT_FLOAT_EQ(l[4], 0.0f);   // zero stays zero
  EXPECT_FLOAT_EQ(l[5], 3.0f);
}

TEST(PenaltyWindow, FrequencyScalesWithCountPresenceDoesNot) {
  PenaltyWindow w(4, 64);
  for (int32_t t : {0, 0, 0, 1}) w.push(t);
  std::vector<float> l = {1.0f, 1.0f, 1.0f, -1.0f};
  w.apply(l, 1.0f, 0.5f, 0.25f);
  EXPECT_FLOAT_EQ(l[0], 1.0f - 3 * 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(l[1], 1.0f - 1 * 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(l[2], 1.0f);
  EXPECT_FLOAT_EQ(l[3], -1.0f);

  std::vector<float> neg = {1.0f, 1.0f, 1.0f, 1.0f};  // negative penalties encourage repetition
  w.apply(neg, 1.0f, -0.5f, -1.0f);
  EXPECT_FLOAT_EQ(neg[0], 1.0f + 1.5f + 1.0f);
}

TEST(PenaltyWindow, RepetitionBeforeFrequencyAndPresence) {
  PenaltyWindow w(2, 8);
  w.push(0);
  w.push(0);
  std::vector<float> l = {3.0f, 3.0f};
  w.apply(l, 1.5f, 0.25f, 0.5f);
  EXPECT_FLOAT_EQ(l[0], 3.0f / 1.5f - 2 * 0.25f - 0.5f);
  EXPECT_FLOAT_EQ(l[1], 3.0f);
}

TEST(PenaltyWindow, OnlyTheLastNTokensCount) {
  PenaltyWindow w(10, 3);
  for (int32_t t : {5, 6, 7, 8}) w.push(t);
  EXPECT_EQ(w.count(5), 0);
  EXPECT_EQ(w.count(8), 1);
  EXPECT_EQ(w.n_tokens(), 3u);
  std::vector<float> l(10, 1.0f);
  w.apply(l, 2.0f, 0.0f, 0.0f);
  EXPECT_FLOAT_EQ(l[5], 1.0f);
  EXPECT_FLOAT_EQ(l[6], 0.5f);
  EXPECT_FLOAT_EQ(l[8], 0.5f);

  PenaltyWindow r(10, 3);
  for (int32_t t : {1, 1, 2, 1}) r.push(t);  // window {1, 2, 1}
  EXPECT_EQ(r.count(1), 2);
  EXPECT_EQ(r.count(2), 1);
  EXPECT_EQ(r.n_distinct(), 2u);
}

TEST(PenaltyWindow, MinusOneKeepsEverythingZeroKeepsNothing) {
  PenaltyWindow all(10, -1);
  for (int i = 0; i < 1000; ++i) all.push(i % 3);
  EXPECT_EQ(all.count(0), 334);
  EXPECT_EQ(all.n_tokens(), 1000u);

  PenaltyWindow none(10, 0);
  none.push(1);
  EXPECT_EQ(none.count(1), 0);
  std::vector<float> l(10, 1.0f);
  none.apply(l, 2.0f, 1.0f, 1.0f);
  EXPECT_FLOAT_EQ(l[1], 1.0f);
}

TEST(PenaltyWindow, ClearForgets) {
  PenaltyWindow w(10, 4);
  for (int32_t t : {1, 2, 3, 4, 5}) w.push(t);
  w.clear();
  EXPECT_EQ(w.n_tokens(), 0u);
  EXPECT_EQ(w.n_distinct(), 0u);
  for (int32_t t = 0; t < 10; ++t) EXPECT_EQ(w.count(t), 0);
  w.push(9);
  EXPECT_EQ(w.count(9), 1);
}

TEST(PenaltyWindow, MatchesARecountOfTheLastNTokens) {
  for (int32_t last_n : {1, 2, 7, 64}) {
    PenaltyWindow w(50, last_n);
    std::deque<int32_t> ref;
    std::mt19937_64 rng(static_cast<uint64_t>(last_n));
    for (int i = 0; i < 2000; ++i) {
      const auto t = static_cast<int32_t>(rng() % (i % 200 < 100 ? 5 : 50));  // phases of heavy repetition
      w.push(t);
      ref.push_back(t);
      if (ref.size() > static_cast<size_t>(last_n)) ref.pop_front();
      if (i % 37 == 0) {
        std::map<int32_t, int32_t> counts;
        for (int32_t x : ref) ++counts[x];
        EXPECT_EQ(w.n_distinct(), counts.size());
        for (int32_t x = 0; x < 50; ++x) ASSERT_EQ(w.count(x), counts.count(x) ? counts[x] : 0) << i;
      }
    }
  }
}
