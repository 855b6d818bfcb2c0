// Cost of one ThreadPool::run / run_shared with an empty job: the synchronisation a matmul pays per call.
#include <benchmark/benchmark.h>

#include "bench_util.h"

namespace prima::kernels::bench {
namespace {

void bm_pool_run(benchmark::State& state) {
  ThreadPool& p = pool();
  for (auto _ : state) p.run([](int, int) {});
  state.SetLabel("threads=" + std::to_string(p.n_threads()));
}
BENCHMARK(bm_pool_run)->Name("pool/run_empty")->UseRealTime()->Unit(benchmark::kMicrosecond);

void bm_pool_run_shared(benchmark::State& state) {
  ThreadPool& p = pool();
  for (auto _ : state) p.run_shared([](int, int) {});
  state.SetLabel("threads=" + std::to_string(p.n_threads()));
}
BENCHMARK(bm_pool_run_shared)->Name("pool/run_shared_empty")->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace prima::kernels::bench
