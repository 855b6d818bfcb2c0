// Halda on synthetic clusters: the acceptance of issue 7.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <random>

#include "clusters.h"
#include "scheduler/evaluate.h"
#include "scheduler/halda.h"
#include "scheduler/synthetic.h"

using namespace prima::scheduler;
using namespace prima::scheduler::testing;

namespace {

PlanOptions options(int n_ctx = 1024) {
  PlanOptions o;
  o.n_ctx = n_ctx;
  return o;
}

void expect_valid(const Plan& p, int n_layer) {
  ASSERT_TRUE(p.feasible) << p.infeasible_reason;
  int sum = 0;
  for (const auto& d : p.devices) {
    EXPECT_EQ(d.selected, d.window > 0) << d.name;
    EXPECT_EQ(d.layers, p.k * d.window) << d.name;
    EXPECT_LE(d.gpu_layers, d.window) << d.name;
    sum += d.window;
  }
  EXPECT_EQ(sum * p.k, n_layer);
  EXPECT_TRUE(p.devices.back().selected) << "the head always computes";
  // The breakdown adds up to the prediction.
  EXPECT_NEAR(p.terms.total(), p.predicted_ms_per_token, 1e-6 * p.predicted_ms_per_token);
  EXPECT_NEAR(p.ring_ms + p.disk_wait_ms, p.predicted_ms_per_token, 1e-6 * p.predicted_ms_per_token);
}

std::vector<DeviceProfile> random_cluster(std::mt19937& rng, int n) {
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<DeviceProfile> devs;
  for (int i = 0; i < n; ++i) {
    auto d = device(fmt::format("d{}", i), i % 3 == 0 ? Os::MacOS : (i % 3 == 1 ? Os::Linux : Os::Android),
                    1 + 8 * u(rng), 0.5 + 3 * u(rng), 0.2 + u(rng), 10 + 150 * u(rng), 10 + 80 * u(rng));
    d.link.rtt = 0.001 + 0.01 * u(rng);
    devs.push_back(d);
  }
  return devs;
}

}  // namespace

TEST(Halda, ModelThatFitsOneFastDeviceGetsThatDeviceAlone) {
  const ModelStats m = synthetic_model_stats(llama3_8b_shape());  // ~4.6 GB
  std::vector<DeviceProfile> devs = {
      device("laptop", Os::Linux, 6, 2.0, 0.8, 50, 30), device("phone", Os::Android, 3, 1.0, 0.3, 15, 15),
      device("desktop", Os::Linux, 24, 3.0, 1.0, 120, 60),  // head
  };
  auto p = halda(devs, m, options(4096));
  ASSERT_TRUE(p) << p.status().message();
  expect_valid(*p, m.n_layer);
  EXPECT_EQ(p->n_selected(), 1);
  EXPECT_TRUE(p->devices[2].selected);
  EXPECT_EQ(p->devices[2].window * p->k, 32);
  EXPECT_EQ(p->terms.comm_ms, 0);
  EXPECT_EQ(p->devices[2].disk_bytes, 0u) << "it fits: nothing is read from disk";
  EXPECT_EQ(p->notes.size(), 2u);

  // Without device selection every device computes, and the plan is slower: selection is what helped.
  PlanOptions all = options(4096);
  all.device_selection = false;
  auto q = halda(devs, m, all);
  ASSERT_TRUE(q) << q.status().message();
  EXPECT_EQ(q->n_selected(), 3);
  EXPECT_GT(q->predicted_ms_per_token, p->predicted_ms_per_token);
}

TEST(Halda, Llama70BOnThePaperTestbedUsesSeveralCyclesAndBeatsMemoryProportionalSplits) {
  const ModelStats m = synthetic_model_stats(llama3_70b_shape());
  ASSERT_GT(m.weight_bytes, 38e9);
  ASSERT_LT(m.weight_bytes, 43e9);
  const auto devs = paper_testbed();
  const PlanOptions o = options(1024);
  auto p = halda(devs, m, o);
  ASSERT_TRUE(p) << p.status().message();
  expect_valid(*p, 80);
  EXPECT_GT(p->k, 1);
  EXPECT_GT(p->terms.disk_ms, 0) << "the cluster holds less than half the model: disk reads remain";

  int compared = 0;
  for (int k : divisors(80)) {
    for (const Assignment& a : {memory_proportional_split(devs, 80, k), even_split(4, 80, k)}) {
      auto e = evaluate(devs, m, a, o);
      ASSERT_TRUE(e) << e.status().message();
      if (!e->feasible) continue;
      ++compared;
      EXPECT_LT(p->predicted_ms_per_token, e->predicted_ms_per_token) << "k = " << k;
    }
  }
  EXPECT_GE(compared, 15);
  // The plan is not a lucky corner: with k = 1 (plain pipeline) Halda's own best is much slower.
  PlanOptions k1 = o;
  k1.k_values = {1};
  auto q = halda(devs, m, k1);
  ASSERT_TRUE(q) << q.status().message();
  EXPECT_GT(q->predicted_ms_per_token, 1.5 * p->predicted_ms_per_token);
}

TEST(Halda, CyclesHelpOnlyBecauseDiskReadsOverlap) {
  const ModelStats m = synthetic_model_stats(llama3_70b_shape());
  PlanOptions o = options(1024);
  o.overlap_disk = false;  // the paper's model: every re-read is on the ring's serial path
  auto p = halda(paper_testbed(), m, o);
  ASSERT_TRUE(p) << p.status().message();
  expect_valid(*p, 80);
  EXPECT_EQ(p->k, 1) << "without overlap more cycles only add hops";
}

TEST(Halda, AddingAVerySlowDeviceNeverMakesThePlanWorse) {
  const ModelStats m70 = synthetic_model_stats(llama3_70b_shape());
  const ModelStats m8 = synthetic_model_stats(llama3_8b_shape());
  auto slow = device("slow", Os::Linux, 8, 0.05, 0.01, 0.5, 2);
  slow.link.rtt = 0.05;

  auto base = paper_testbed();
  auto with_slow = base;
  with_slow.insert(with_slow.begin() + 1, slow);
  auto p0 = halda(base, m70, options());
  auto p1 = halda(with_slow, m70, options());
  ASSERT_TRUE(p0 && p1);
  EXPECT_LE(p1->predicted_ms_per_token, p0->predicted_ms_per_token * (1 + 1e-9));
  EXPECT_FALSE(p1->devices[1].selected);

  for (int seed = 0; seed < 40; ++seed) {
    std::mt19937 rng(static_cast<unsigned>(seed));
    const int n = 2 + seed % 5;
    auto devs = random_cluster(rng, n);
    const ModelStats& m = seed % 2 ? m70 : m8;
    auto q0 = halda(devs, m, options(2048));
    devs.insert(devs.begin() + seed % n, slow);
    auto q1 = halda(devs, m, options(2048));
    ASSERT_TRUE(q0) << q0.status().message();
    ASSERT_TRUE(q1) << q1.status().message();
    EXPECT_LE(q1->predicted_ms_per_token, q0->predicted_ms_per_token * (1 + 1e-9)) << "seed " << seed;
  }
}

TEST(Halda, InfeasibleClustersSayWhy) {
  const ModelStats m = synthetic_model_stats(llama3_70b_shape());

  // No disk speed anywhere and far too little memory: the model cannot be held or streamed.
  auto no_disk = paper_testbed();
  for (auto& d : no_disk) d.disk_seq_read = d.disk_rand_read = 0;
  auto r = halda(no_disk, m, options());
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("no device can stream"), std::string::npos) << r.status().message();

  // A context whose KV cache exceeds the whole cluster's memory.
  r = halda(paper_testbed(), m, options(1 << 20));
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("KV cache"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("n-ctx"), std::string::npos) << r.status().message();

  // Disks so slow the plan would take minutes per token.
  auto slow_disks = paper_testbed();
  for (auto& d : slow_disks) d.disk_seq_read = d.disk_rand_read = 20e6;
  r = halda(slow_disks, m, options());
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("above the limit"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("disks cannot stream"), std::string::npos) << r.status().message();

  // A head too small for one layer's buffers.
  auto tiny_head = paper_testbed();
  tiny_head.back().memory_available = 32u << 20;
  r = halda(tiny_head, m, options());
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("the head 'mac-m1'"), std::string::npos) << r.status().message();

  // A throughput missing for a type the model computes with.
  auto no_q4k = paper_testbed();
  no_q4k[0].cpu_decode_flops.erase("Q4_K");
  r = halda(no_q4k, m, options());
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("'laptop-i9'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("Q4_K"), std::string::npos) << r.status().message();

  PlanOptions bad_k = options();
  bad_k.k_values = {3};
  r = halda(paper_testbed(), m, bad_k);
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("k = 3"), std::string::npos) << r.status().message();
}

TEST(Halda, DevicesThatCannotHoldOneLayerAreLeftOut) {
  const ModelStats m = synthetic_model_stats(llama3_70b_shape());
  auto devs = paper_testbed();
  devs[2].memory_available = 16u << 20;  // the phone: not even its work buffers fit
  auto p = halda(devs, m, options());
  ASSERT_TRUE(p) << p.status().message();
  expect_valid(*p, 80);
  EXPECT_FALSE(p->devices[2].selected);
  ASSERT_FALSE(p->notes.empty());
  EXPECT_NE(p->notes[0].find("phone"), std::string::npos);
}

TEST(Halda, SixteenDevicesEightyLayers) {
  std::mt19937 rng(7);
  const auto devs = random_cluster(rng, 16);
  const ModelStats m = synthetic_model_stats(llama3_70b_shape());
  const PlanOptions o = options(4096);
  auto p = halda(devs, m, o);
  ASSERT_TRUE(p) << p.status().message();
  expect_valid(*p, 80);
  for (int k : {1, 2, 4, 5}) {
    auto e = evaluate(devs, m, memory_proportional_split(devs, 80, k), o);
    ASSERT_TRUE(e);
    if (e->feasible) {
      EXPECT_LT(p->predicted_ms_per_token, e->predicted_ms_per_token) << "k = " << k;
    }
  }
}

TEST(Halda, GpuLayersGoWhereTheGpuIsFastAndFit) {
  const ModelStats m = synthetic_model_stats(llama3_8b_shape());
  auto devs = paper_testbed();
  DeviceProfile& desktop = devs[1];
  desktop.gpu.name = "test-gpu";
  desktop.gpu.vram_bytes = 2ull << 30;  // room for a few layers of the 8B model only
  desktop.gpu.decode_flops = {{"*", 2000 * GFLOPS}};
  desktop.gpu.read_bandwidth = 400 * GB;
  auto p = halda(devs, m, options(1024));
  ASSERT_TRUE(p) << p.status().message();
  expect_valid(*p, 32);
  const DevicePlan& d = p->devices[1];
  ASSERT_TRUE(d.selected);
  EXPECT_GT(d.gpu_layers, 0);
  EXPECT_LE(d.vram_bytes, desktop.gpu.vram_bytes);
  for (size_t i = 0; i < devs.size(); ++i)
    if (i != 1) {
      EXPECT_EQ(p->devices[i].gpu_layers, 0);
    }

  // No usable GPU: no GPU layers anywhere.
  desktop.gpu.vram_bytes = 0;
  auto q = halda(devs, m, options(1024));
  ASSERT_TRUE(q);
  for (const auto& dp : q->devices) EXPECT_EQ(dp.gpu_layers, 0);
  EXPECT_GT(q->predicted_ms_per_token, p->predicted_ms_per_token);
}

TEST(Halda, DevicesTooSlowForAnyUsablePlanAreLeftOut) {
  const ModelStats m = synthetic_model_stats(llama3_70b_shape());
  auto devs = paper_testbed();
  auto crawler = device("crawler", Os::Linux, 4, 3, 1, 60, 1e-6);  // 1 kB/s memory: a layer takes days
  auto far = device("far-away", Os::Linux, 4, 3, 1, 60, 40);
  far.link.rtt = 59.5;
  far.link.bandwidth = 1e3;                                                  // 32 KiB per hop at 1 kB/s
  auto slow_disk = device("slow-disk", Os::Linux, 0.5, 1e-6, 1e-6, 60, 40);  // 1 kB/s disk, too little memory
  devs.insert(devs.begin(), {crawler, far, slow_disk});
  auto p = halda(devs, m, options());
  ASSERT_TRUE(p) << p.status().message();
  expect_valid(*p, 80);
  auto p0 = halda(paper_testbed(), m, options());
  ASSERT_TRUE(p0);
  EXPECT_LE(p->predicted_ms_per_token, p0->predicted_ms_per_token * (1 + 1e-9));
  for (int i : {0, 1, 2}) EXPECT_FALSE(p->devices[static_cast<size_t>(i)].selected) << i;
  std::string notes;
  for (const auto& n : p->notes) notes += n + "\n";
  EXPECT_NE(notes.find("crawler: left out, too slow"), std::string::npos) << notes;
  EXPECT_NE(notes.find("far-away: left out, too slow"), std::string::npos) << notes;
  EXPECT_NE(notes.find("slow-disk: its disk is too slow"), std::string::npos) << notes;

  // A head that slow cannot plan at all.
  auto slow_head = paper_testbed();
  slow_head.back().memory_read_bandwidth = 1e3;
  auto r = halda(slow_head, m, options());
  ASSERT_FALSE(r);
  EXPECT_NE(r.status().message().find("the head 'mac-m1' is too slow"), std::string::npos) << r.status().message();
}
