// The chain steps on crafted distributions, and against naive full-sort references on random ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>

#include "sampling/chain.h"

using namespace prima::sampling;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

Candidates make(const std::vector<float>& logits) {
  Candidates c;
  c.items.reserve(logits.size());
  fill_candidates(c, logits);
  return c;
}

std::set<int32_t> ids(const Candidates& c) {
  std::set<int32_t> s;
  for (const Candidate& x : c.items) s.insert(x.id);
  return s;
}

// Logits with the given probabilities (natural log), placed at shuffled ids so order does not help.
// probs[i] goes to token perm[i].
std::vector<float> logits_for(const std::vector<double>& probs, const std::vector<int32_t>& perm) {
  std::vector<float> l(probs.size());
  for (size_t i = 0; i < probs.size(); ++i) l[static_cast<size_t>(perm[i])] = static_cast<float>(std::log(probs[i]));
  return l;
}

bool is_rank_sorted(const Candidates& c) {
  return std::is_sorted(c.items.begin(), c.items.end(), ranks_before);
}

// The Candidates invariant: items[0, n_sorted) are in rank order and rank before every later item.
void expect_invariant(const Candidates& c) {
  ASSERT_LE(c.n_sorted, c.items.size());
  const auto mid = c.items.begin() + static_cast<ptrdiff_t>(c.n_sorted);
  EXPECT_TRUE(std::is_sorted(c.items.begin(), mid, ranks_before));
  if (c.n_sorted > 0) {
    for (auto it = mid; it != c.items.end(); ++it) ASSERT_TRUE(ranks_before(*(mid - 1), *it));
  }
}

// Random logits with many exact ties (quantised), so tie-breaking is exercised.
std::vector<float> random_logits(size_t n, uint64_t seed, float step) {
  std::mt19937_64 rng(seed);
  std::vector<float> l(n);
  for (float& x : l) x = std::round(static_cast<float>(uniform01(rng) * 20.0 - 10.0) / step) * step;
  return l;
}

std::vector<Candidate> reference_sorted(const std::vector<float>& logits) {
  std::vector<Candidate> all;
  for (size_t i = 0; i < logits.size(); ++i) all.push_back({static_cast<int32_t>(i), logits[i]});
  std::sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) {
    return a.logit != b.logit ? a.logit > b.logit : a.id < b.id;
  });
  return all;
}

}  // namespace

TEST(Chain, ArgmaxTiesToLowestIdAndIgnoresNaN) {
  EXPECT_EQ(argmax(std::vector<float>{1, 3, 2, 3}), 1);
  EXPECT_EQ(argmax(std::vector<float>{kNaN, 1, kNaN, 0}), 1);
  EXPECT_EQ(argmax(std::vector<float>{-kInf, -5, -kInf}), 1);
  EXPECT_EQ(argmax(std::vector<float>{1, kInf, 2, kInf}), 1);
  EXPECT_EQ(argmax(std::vector<float>{kNaN, -kInf, kNaN}), -1);
  EXPECT_EQ(argmax(std::vector<float>{}), -1);
}

TEST(Chain, FillDropsNaNAndMinusInfinity) {
  const Candidates c = make({0.5f, kNaN, -kInf, -3.0f, 7.0f});
  EXPECT_EQ(ids(c), (std::set<int32_t>{0, 3, 4}));
  EXPECT_EQ(c.n_sorted, 0u);
  EXPECT_EQ(c.items[0].id, 0);  // id order
  EXPECT_EQ(make({kNaN, -kInf}).items.size(), 0u);
}

TEST(Chain, PlusInfinityLeavesOnlyTheInfiniteTokensAsEquals) {
  const Candidates c = make({0.5f, kInf, 1e30f, kNaN, kInf});
  EXPECT_EQ(ids(c), (std::set<int32_t>{1, 4}));
  for (const Candidate& x : c.items) EXPECT_EQ(x.logit, 0.0f);
}

TEST(Chain, TopKKeepsTheKHighestSortedTiesToLowerId) {
  Candidates c = make({1, 5, 3, 5, 4, 0, 4});
  keep_top_k(c, 4);
  ASSERT_EQ(c.items.size(), 4u);
  EXPECT_TRUE(c.sorted());
  const int32_t expect[] = {1, 3, 4, 6};
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(c.items[i].id, expect[i]);
  keep_top_k(c, 1);
  EXPECT_EQ(c.items[0].id, 1);

  Candidates all = make({1, 2, 3});
  keep_top_k(all, 0);  // off
  EXPECT_EQ(all.items.size(), 3u);
  keep_top_k(all, 10);  // more than there are
  EXPECT_EQ(all.items.size(), 3u);
}

TEST(Chain, FillWithTopKEqualsFillThenTopK) {
  // Both paths (heap selection for small k, full set then top-k otherwise), with ties and non-finite logits.
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    std::mt19937_64 rng(seed);
    const size_t n = 500 + rng() % 5000;
    std::vector<float> l = random_logits(n, seed, 0.5f);
    const int n_special = static_cast<int>(seed % 4) * 3;
    for (int i = 0; i < n_special; ++i) l[rng() % n] = (i % 3 == 0) ? kNaN : (i % 3 == 1) ? -kInf : kInf;
    if (seed % 5 == 0) std::sort(l.begin(), l.end(), [](float a, float b) { return a < b; });  // ascending: worst case
    for (int32_t k : {1, 3, 7, 40, 100, 1000, static_cast<int32_t>(n) + 5}) {
      Candidates two_steps = make(l);
      keep_top_k(two_steps, k);
      Candidates fused;
      fused.items.reserve(n);
      EXPECT_EQ(fill_candidates(fused, l, k), two_steps.items.size());
      ASSERT_EQ(fused.items.size(), two_steps.items.size()) << "seed " << seed << " k " << k;
      EXPECT_EQ(fused.n_sorted, two_steps.n_sorted);
      expect_invariant(fused);
      expect_invariant(two_steps);
      for (size_t i = 0; i < fused.items.size(); ++i) {
        ASSERT_EQ(fused.items[i].id, two_steps.items[i].id) << "seed " << seed << " k " << k << " i " << i;
        ASSERT_EQ(fused.items[i].logit, two_steps.items[i].logit);
      }
    }
  }
}

TEST(Chain, TopPKeepsTheSmallestSetReachingP) {
  // probabilities 0.5, 0.3, 0.15, 0.05 at ids 2, 0, 3, 1
  const std::vector<float> l = logits_for({0.5, 0.3, 0.15, 0.05}, {2, 0, 3, 1});
  const auto top_p = [&](float p) {
    Candidates c = make(l);
    keep_top_p(c, p);
    EXPECT_TRUE(c.sorted() || p >= 1.0f);  // p = 1 is off: nothing sorted
    return ids(c);
  };
  EXPECT_EQ(top_p(0.3f), (std::set<int32_t>{2}));
  EXPECT_EQ(top_p(0.75f), (std::set<int32_t>{2, 0}));  // 0.5 < 0.75 <= 0.8: the crossing token stays
  EXPECT_EQ(top_p(0.85f), (std::set<int32_t>{2, 0, 3}));
  EXPECT_EQ(top_p(0.99f), (std::set<int32_t>{2, 0, 3, 1}));
  EXPECT_EQ(top_p(1.0f), (std::set<int32_t>{0, 1, 2, 3}));
}

TEST(Chain, TopPOnALargeFlatSetSortsOnlyWhatItNeeds) {
  // 10000 equal logits: p = 0.5 keeps exactly the 5000 lowest ids (5000 * 1 >= 0.5 * 10000, exactly).
  Candidates c = make(std::vector<float>(10000, 1.25f));
  keep_top_p(c, 0.5f);
  ASSERT_EQ(c.items.size(), 5000u);
  for (size_t i = 0; i < c.items.size(); ++i) EXPECT_EQ(c.items[i].id, static_cast<int32_t>(i));
}

TEST(Chain, MinPKeepsTokensAboveAFractionOfTheBest) {
  const std::vector<float> l = logits_for({0.5, 0.3, 0.15, 0.05}, {2, 0, 3, 1});
  const auto min_p = [&](float p) {
    Candidates c = make(l);
    keep_min_p(c, p);
    return ids(c);
  };
  EXPECT_EQ(min_p(0.0f), (std::set<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(min_p(0.05f), (std::set<int32_t>{0, 1, 2, 3}));  // 0.05 >= 0.025
  EXPECT_EQ(min_p(0.2f), (std::set<int32_t>{2, 0, 3}));      // 0.15 >= 0.1 > 0.05
  EXPECT_EQ(min_p(0.5f), (std::set<int32_t>{2, 0}));         // 0.3 >= 0.25
  EXPECT_EQ(min_p(0.9f), (std::set<int32_t>{2}));
  EXPECT_EQ(min_p(1.0f), (std::set<int32_t>{2}));

  Candidates ties = make({3, 1, 3});
  keep_min_p(ties, 1.0f);
  EXPECT_EQ(ids(ties), (std::set<int32_t>{0, 2}));
}

TEST(Chain, MinPKeepsOrder) {
  Candidates c = make({0, -10, 1, -10, 2});
  keep_min_p(c, 0.1f);  // threshold 2 + ln 0.1 = -0.30: keeps ids 0, 2, 4, still in id order
  ASSERT_EQ(c.items.size(), 3u);
  EXPECT_EQ(c.items[0].id, 0);
  EXPECT_EQ(c.items[1].id, 2);
  EXPECT_EQ(c.items[2].id, 4);
  EXPECT_EQ(c.n_sorted, 0u);

  Candidates s = make({0, -10, 1, -10, 2});
  keep_top_k(s, 4);
  keep_min_p(s, 0.1f);
  ASSERT_EQ(s.items.size(), 3u);
  EXPECT_TRUE(s.sorted());
  EXPECT_EQ(s.items[0].id, 4);
  EXPECT_EQ(s.items[2].id, 0);
}

TEST(Chain, StepsMatchNaiveFullSortReferences) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const size_t n = 3000 + seed * 97;
    const std::vector<float> l = random_logits(n, seed, seed % 2 ? 0.25f : 0.01f);
    const std::vector<Candidate> ref = reference_sorted(l);
    float max = ref[0].logit;
    double total = 0.0;
    for (float x : l) total += std::exp(x - max);

    for (int32_t k : {1, 2, 40, 500, static_cast<int32_t>(n) - 1}) {
      Candidates c = make(l);
      keep_top_k(c, k);
      ASSERT_EQ(c.items.size(), static_cast<size_t>(k));
      for (size_t i = 0; i < c.items.size(); ++i) ASSERT_EQ(c.items[i].id, ref[i].id) << "k " << k;
    }
    for (float p : {0.05f, 0.5f, 0.9f, 0.95f, 0.999f}) {
      size_t n_ref = 0;
      double cum = 0.0;
      while (n_ref < ref.size()) {
        cum += std::exp(ref[n_ref++].logit - max);
        if (cum >= static_cast<double>(p) * total) break;
      }
      Candidates c = make(l);
      keep_top_p(c, p);
      expect_invariant(c);
      ASSERT_EQ(c.items.size(), n_ref) << "p " << p << " seed " << seed;
      std::set<int32_t> want;
      for (size_t i = 0; i < n_ref; ++i) want.insert(ref[i].id);
      EXPECT_EQ(ids(c), want);
      for (size_t i = 0; i < c.n_sorted; ++i) ASSERT_EQ(c.items[i].id, ref[i].id);  // what claims order has it
    }
    for (float p : {0.001f, 0.05f, 0.3f}) {
      const float min_logit = max + std::log(p);
      std::set<int32_t> want;
      for (const Candidate& x : ref) {
        if (x.logit >= min_logit) want.insert(x.id);
      }
      Candidates c = make(l);
      keep_min_p(c, p);
      expect_invariant(c);
      EXPECT_EQ(ids(c), want);
      Candidates after_top_k = make(l);  // min-p on a sorted set
      keep_top_k(after_top_k, static_cast<int32_t>(n / 2));
      keep_min_p(after_top_k, p);
      expect_invariant(after_top_k);
      EXPECT_TRUE(after_top_k.sorted());
    }
  }
}

TEST(Chain, TopPHistogramCopesWithExtremeSpreads) {
  // Huge finite logits (max - min overflows to +inf) and a long flat tail far below.
  std::vector<float> l(5000, -3e38f);
  l[10] = 3e38f;
  l[20] = 3e38f;
  Candidates c = make(l);
  keep_top_p(c, 0.9f);
  EXPECT_EQ(ids(c), (std::set<int32_t>{10, 20}));  // 0.5 each: both needed to reach 0.9

  // Two clusters 100 apart: everything in the lower one lands in the last bucket and is never needed.
  std::vector<float> m(6000, -100.0f);
  for (size_t i = 0; i < 3000; i += 2) m[i] = static_cast<float>(i % 7);
  Candidates d = make(m);
  keep_top_p(d, 0.999f);
  for (const Candidate& x : d.items) EXPECT_GE(x.logit, 0.0f);
  EXPECT_FALSE(d.items.empty());
}

TEST(Chain, TopKThenTopPThenMinPComposes) {
  const std::vector<float> l = random_logits(5000, 99, 0.01f);
  Candidates c = make(l);
  keep_top_k(c, 40);
  keep_top_p(c, 0.9f);
  keep_min_p(c, 0.05f);
  EXPECT_TRUE(c.sorted());
  EXPECT_TRUE(is_rank_sorted(c));
  expect_invariant(c);
  EXPECT_GE(c.items.size(), 1u);
  EXPECT_LE(c.items.size(), 40u);
}

TEST(Chain, DrawWalksCumulativeWeights) {
  // weights at T = 1: ids 0..3 with probabilities 0.1, 0.2, 0.3, 0.4, in id order
  Candidates c = make({std::log(0.1f), std::log(0.2f), std::log(0.3f), std::log(0.4f)});
  std::vector<float> w;
  w.reserve(4);
  EXPECT_EQ(draw(c, 1.0f, 0.0, w).token, 0);
  EXPECT_EQ(draw(c, 1.0f, 0.05, w).token, 0);
  EXPECT_EQ(draw(c, 1.0f, 0.15, w).token, 1);
  EXPECT_EQ(draw(c, 1.0f, 0.45, w).token, 2);
  EXPECT_EQ(draw(c, 1.0f, 0.65, w).token, 3);
  const Sample s = draw(c, 1.0f, 0.999999, w);
  EXPECT_EQ(s.token, 3);
  EXPECT_NEAR(s.prob, 0.4f, 1e-6f);
  // T = 0.5 squares the odds: 1, 4, 9, 16 over 30
  EXPECT_NEAR(draw(c, 0.5f, 0.0, w).prob, 1.0f / 30.0f, 1e-6f);
  EXPECT_EQ(draw(c, 0.5f, 0.5, w).token, 3);  // 14/30 = 0.467 < 0.5
}

TEST(Chain, Uniform01IsInRangeAndFixedByTheStandardEngine) {
  std::mt19937_64 rng;  // default seed 5489
  for (int i = 0; i < 9999; ++i) rng();
  EXPECT_EQ(rng(), 9981545732273789042ull);  // [rand.predef]: the 10000th output of mt19937_64
  std::mt19937_64 r(42);
  double lo = 1.0, hi = 0.0;
  for (int i = 0; i < 100000; ++i) {
    const double u = uniform01(r);
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  EXPECT_GE(lo, 0.0);
  EXPECT_LT(hi, 1.0);
  EXPECT_LT(lo, 1e-3);
  EXPECT_GT(hi, 1.0 - 1e-3);
}
