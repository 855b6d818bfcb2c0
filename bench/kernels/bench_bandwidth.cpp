// The memory read bandwidth probe the profiler uses (256 MiB, 0.5 s), on the benchmark pool: the median pass
// (GB/s) and the best one (best_GB/s).
#include <benchmark/benchmark.h>

#include "bench_util.h"
#include "kernels/bandwidth.h"

namespace prima::kernels::bench {
namespace {

void bm_read_bandwidth(benchmark::State& state) {
  ReadBandwidth bw;
  for (auto _ : state) bw = measure_read_bandwidth(pool(), size_t{256} << 20, 0.5);
  state.counters["GB/s"] = bw.median_gbs;
  state.counters["best_GB/s"] = bw.best_gbs;
  state.SetLabel("threads=" + std::to_string(pool().n_threads()));
}
BENCHMARK(bm_read_bandwidth)->Name("bandwidth/read")->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace prima::kernels::bench
