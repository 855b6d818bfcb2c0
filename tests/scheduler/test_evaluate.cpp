// The latency model, the evaluator and the integer program agree with each other and with brute force.
#include <gtest/gtest.h>

#include <functional>

#include "clusters.h"
#include "scheduler/evaluate.h"
#include "scheduler/halda.h"
#include "scheduler/ilp.h"
#include "scheduler/synthetic.h"

using namespace prima::scheduler;
using namespace prima::scheduler::testing;

namespace {

PlanOptions options(int n_ctx = 1024) {
  PlanOptions o;
  o.n_ctx = n_ctx;
  return o;
}

// Every composition of `total` into `parts` positive integers.
void compositions(int total, int parts, std::vector<int>& cur, const std::function<void(const std::vector<int>&)>& f) {
  if (parts == 1) {
    cur.push_back(total);
    f(cur);
    cur.pop_back();
    return;
  }
  for (int w = 1; w <= total - (parts - 1); ++w) {
    cur.push_back(w);
    compositions(total - w, parts - 1, cur, f);
    cur.pop_back();
  }
}

}  // namespace

TEST(Evaluate, SingleDeviceThatFitsIsComputePlusMemory) {
  ModelShape s = llama3_8b_shape();
  const ModelStats m = synthetic_model_stats(s);
  DeviceProfile d = device("solo", Os::Linux, 32, 3, 1, 100, 50);
  PlanOptions o = options(512);
  o.n_past = 0;  // no attention cost: the numbers below are exact
  auto p = evaluate(std::span(&d, 1), m, Assignment{1, {32}, {}}, o);
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->feasible);
  const LayerStats layer = m.mean_layer();
  const double compute_ms = 32 * layer.flops / 100e9 * 1e3 + m.output_flops / 80e9 * 1e3;  // output is Q6_K
  EXPECT_NEAR(p->terms.compute_ms, compute_ms, 1e-6 * compute_ms);
  // Memory bound at 50 GB/s? 4.6 GB per token take 92 ms, compute ~150 ms: compute dominates, no excess.
  EXPECT_EQ(p->terms.memory_ms, 0);
  EXPECT_EQ(p->terms.disk_ms, 0);
  EXPECT_EQ(p->terms.comm_ms, 0);
  EXPECT_NEAR(p->predicted_ms_per_token, compute_ms, 1e-6 * compute_ms);

  // A slow memory makes the layers memory-bound: the excess appears as the memory term.
  d.memory_read_bandwidth = 5e9;
  p = evaluate(std::span(&d, 1), m, Assignment{1, {32}, {}}, o);
  ASSERT_TRUE(p);
  const double mem_ms =
      32 * static_cast<double>(layer.bytes) / 5e9 * 1e3 + static_cast<double>(m.output_bytes) / 5e9 * 1e3;
  EXPECT_NEAR(p->terms.compute_ms + p->terms.memory_ms, mem_ms, 1e-6 * mem_ms);
}

TEST(Evaluate, OverflowIsReadAtTheSpeedTheOsGets) {
  const ModelStats m = synthetic_model_stats(llama3_8b_shape());
  PlanOptions o = options(512);
  for (Os os : {Os::Linux, Os::MacOS, Os::Android, Os::Windows}) {
    DeviceProfile d = device("solo", os, 3, 3.0, 0.5, 100, 50);  // 3 GiB for a 4.6 GB model
    auto p = evaluate(std::span(&d, 1), m, Assignment{1, {32}, {}}, o);
    ASSERT_TRUE(p);
    ASSERT_TRUE(p->feasible);
    const DevicePlan& dp = p->devices[0];
    const double speed = (os == Os::Linux || os == Os::Android) ? 3.0e9 : 0.5e9;
    // One device, k = 1: nothing to overlap with, the overflow is re-read inline every token.
    EXPECT_NEAR(static_cast<double>(dp.pinned_bytes), static_cast<double>(dp.page_cache_bytes), 64.0);
    EXPECT_NEAR(static_cast<double>(dp.disk_bytes), static_cast<double>(dp.weight_bytes - dp.page_cache_bytes), 64.0);
    EXPECT_NEAR(p->terms.disk_ms, static_cast<double>(dp.disk_bytes) / speed * 1e3, 1e-6 * p->terms.disk_ms);
  }
}

TEST(Evaluate, RejectsMalformedAssignmentsAndFlagsOnesThatDoNotFit) {
  const ModelStats m = synthetic_model_stats(llama3_70b_shape());
  const auto devs = paper_testbed();
  const PlanOptions o = options();
  EXPECT_FALSE(evaluate(devs, m, Assignment{3, {10, 10, 10, 10}, {}}, o));            // 3 does not divide 80
  EXPECT_FALSE(evaluate(devs, m, Assignment{2, {10, 10, 10, 9}, {}}, o));             // 39 * 2 != 80
  EXPECT_FALSE(evaluate(devs, m, Assignment{2, {20, 10, 10, 0}, {}}, o));             // head not selected
  EXPECT_FALSE(evaluate(devs, m, Assignment{2, {10, 10, 10}, {}}, o));                // one window short
  EXPECT_FALSE(evaluate(devs, m, Assignment{2, {10, 10, 10, 10}, {0, 1, 0, 0}}, o));  // GPU layers, no GPU
  EXPECT_FALSE(evaluate(devs, m, Assignment{2, {10, -10, 30, 10}, {}}, o));

  // Well formed but the phone's KV cache for 80 layers at 32k context cannot fit.
  auto p = evaluate(devs, m, Assignment{1, {1, 1, 77, 1}, {}}, options(32768));
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->feasible);
  EXPECT_NE(p->infeasible_reason.find("phone"), std::string::npos) << p->infeasible_reason;
  EXPECT_NE(p->infeasible_reason.find("KV cache"), std::string::npos) << p->infeasible_reason;
}

TEST(Evaluate, Splits) {
  const auto devs = paper_testbed();  // 4.1, 9.7, 1.9, 2.4 GiB
  const Assignment a = memory_proportional_split(devs, 80, 1);
  EXPECT_EQ(a.windows, (std::vector<int>{18, 43, 8, 11}));
  const Assignment b = memory_proportional_split(devs, 80, 20);  // W = 4
  EXPECT_EQ(b.windows[3], 1) << "the head keeps a window";
  EXPECT_EQ(b.windows[0] + b.windows[1] + b.windows[2] + b.windows[3], 4);
  EXPECT_EQ(even_split(4, 80, 2).windows, (std::vector<int>{10, 10, 10, 10}));
  EXPECT_EQ(even_split(3, 80, 2).windows, (std::vector<int>{13, 13, 14}));
  EXPECT_EQ(even_split(4, 80, 40).windows, (std::vector<int>{0, 0, 1, 1}));
  EXPECT_EQ(divisors(80), (std::vector<int>{1, 2, 4, 5, 8, 10, 16, 20, 40, 80}));
}

// The integer program's objective is what the evaluator predicts for its solution: two independent ways of
// choosing the pinned bytes (LP variables vs bisection on T) agree.
TEST(Ilp, ObjectiveMatchesTheEvaluator) {
  const ModelStats m = synthetic_model_stats(llama3_70b_shape());
  const auto devs = paper_testbed();
  for (bool overlap : {true, false}) {
    PlanOptions o = options();
    o.overlap_disk = overlap;
    auto cm = CostModel::build(devs, m, o);
    ASSERT_TRUE(cm);
    const std::vector<int> all = {0, 1, 2, 3};
    for (int k : {1, 2, 4, 5, 8, 10, 16, 20}) {
      const IlpSolution s = solve_ilp(*cm, all, k, 1000);
      ASSERT_TRUE(s.feasible) << "k = " << k;
      EXPECT_TRUE(s.optimal);
      const Plan p = evaluate(*cm, devs, Assignment{k, s.windows, s.gpu_layers});
      ASSERT_TRUE(p.feasible);
      EXPECT_NEAR(p.predicted_ms_per_token, s.objective_ms, 1e-5 * s.objective_ms) << "k = " << k;
    }
  }
}

// On a cluster small enough to enumerate, the integer program finds the best windows for every k.
TEST(Ilp, MatchesBruteForce) {
  ModelShape shape = llama3_70b_shape();
  shape.n_layer = 24;  // ~12 GB: three small devices must overflow
  const ModelStats m = synthetic_model_stats(shape);
  std::vector<DeviceProfile> devs = {
      device("a", Os::Linux, 3.0, 2.5, 0.8, 60, 40),
      device("b", Os::MacOS, 2.0, 2.5, 0.6, 90, 60),
      device("c", Os::Android, 4.0, 1.2, 0.4, 25, 20),
  };
  const PlanOptions o = options(2048);
  auto cm = CostModel::build(devs, m, o);
  ASSERT_TRUE(cm);
  for (int k : divisors(24)) {
    if (24 / k < 3) continue;
    double best = 1e300;
    std::vector<int> cur;
    compositions(24 / k, 3, cur, [&](const std::vector<int>& w) {
      const Plan p = evaluate(*cm, devs, Assignment{k, w, {}});
      if (p.feasible) best = std::min(best, p.predicted_ms_per_token);
    });
    const IlpSolution s = solve_ilp(*cm, std::vector<int>{0, 1, 2}, k, 1000);
    ASSERT_TRUE(s.feasible) << "k = " << k;
    const Plan p = evaluate(*cm, devs, Assignment{k, s.windows, {}});
    EXPECT_NEAR(p.predicted_ms_per_token, best, 1e-6 * best) << "k = " << k;
  }
}

TEST(Plan, LayerRangesCoverEveryLayerOnceInRingOrder) {
  const ModelStats m = synthetic_model_stats(llama3_70b_shape());
  const auto devs = paper_testbed();
  auto p = evaluate(devs, m, Assignment{4, {6, 0, 3, 11}, {}}, options());
  ASSERT_TRUE(p);
  EXPECT_EQ(layer_ranges(*p, 0), (std::vector<std::pair<int, int>>{{0, 6}, {20, 26}, {40, 46}, {60, 66}}));
  EXPECT_TRUE(layer_ranges(*p, 1).empty());
  EXPECT_EQ(layer_ranges(*p, 3).back(), (std::pair<int, int>{69, 80})) << "the head computes the last layers";
  std::vector<int> owner(80, -1);
  for (size_t d = 0; d < devs.size(); ++d)
    for (auto [b, e] : layer_ranges(*p, d))
      for (int il = b; il < e; ++il) {
        EXPECT_EQ(owner[static_cast<size_t>(il)], -1) << il;
        owner[static_cast<size_t>(il)] = static_cast<int>(d);
      }
  for (int o : owner) EXPECT_GE(o, 0);
}
