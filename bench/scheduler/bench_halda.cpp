// How long Halda takes to plan: the issue asks for well under a second at 16 devices and 80 layers.
// Clusters are random but fixed (seeded): mixed OSs, memory 1-16 GiB, disks 0.5-3.5 GB/s, CPUs 10-160
// GFLOP/s, Wi-Fi-like links of 1-11 ms. Counters: ILP solves per plan, selected devices, k, predicted ms.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <random>

#include "scheduler/evaluate.h"
#include "scheduler/halda.h"
#include "scheduler/synthetic.h"

using namespace prima::scheduler;

namespace {

std::vector<DeviceProfile> random_cluster(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<DeviceProfile> devs;
  for (int i = 0; i < n; ++i) {
    DeviceProfile d;
    d.name = fmt::format("d{}", i);
    d.os = i % 3 == 0 ? Os::MacOS : (i % 3 == 1 ? Os::Linux : Os::Android);
    d.cores = 8;
    const double gflops = 10 + 150 * u(rng);
    d.cpu_decode_flops = {{"Q4_K", gflops * 1e9}, {"Q6_K", 0.8 * gflops * 1e9}, {"F16", 0.5 * gflops * 1e9}};
    d.memory_available = static_cast<uint64_t>((1 + 15 * u(rng)) * 1073741824.0);
    d.memory_read_bandwidth = (10 + 80 * u(rng)) * 1e9;
    d.disk_seq_read = (0.5 + 3 * u(rng)) * 1e9;
    d.disk_rand_read = (0.2 + u(rng)) * 1e9;
    d.link.rtt = 0.001 + 0.01 * u(rng);
    d.link.bandwidth = 300e6 / 8;
    devs.push_back(d);
  }
  return devs;
}

void plan(benchmark::State& state, const ModelShape& shape) {
  const int n = static_cast<int>(state.range(0));
  const auto devs = random_cluster(n, 1234u + static_cast<unsigned>(n));
  const ModelStats m = synthetic_model_stats(shape);
  PlanOptions o;
  o.n_ctx = 4096;
  o.device_selection = state.range(1) != 0;
  Plan last;
  for (auto _ : state) {
    auto p = halda(devs, m, o);
    if (!p) {
      state.SkipWithError(p.status().message().c_str());
      return;
    }
    last = std::move(*p);
    const Plan* keep = &last;  // (DoNotOptimize on a double lvalue is unreliable with GCC in benchmark 1.7)
    benchmark::DoNotOptimize(keep);
  }
  state.counters["ilp_solves"] = last.ilp_solves;
  state.counters["selected"] = last.n_selected();
  state.counters["k"] = last.k;
  state.counters["predicted_ms"] = last.predicted_ms_per_token;
}

void BM_Halda70B(benchmark::State& state) { plan(state, llama3_70b_shape()); }
void BM_Halda8B(benchmark::State& state) { plan(state, llama3_8b_shape()); }

// Evaluating one assignment (what comparisons and predicted-vs-measured reports call).
void BM_Evaluate(benchmark::State& state) {
  const auto devs = random_cluster(16, 99);
  const ModelStats m = synthetic_model_stats(llama3_70b_shape());
  const PlanOptions o;
  const Assignment a = memory_proportional_split(devs, 80, 5);
  for (auto _ : state) {
    auto p = evaluate(devs, m, a, o);
    benchmark::DoNotOptimize(p);
  }
}

}  // namespace

BENCHMARK(BM_Halda70B)->ArgsProduct({{4, 8, 16}, {1}})->ArgNames({"devices", "select"})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Halda70B)->Args({16, 0})->ArgNames({"devices", "select"})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Halda70B)->Args({64, 1})->ArgNames({"devices", "select"})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Halda8B)->Args({16, 1})->ArgNames({"devices", "select"})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Evaluate)->Unit(benchmark::kMicrosecond);
