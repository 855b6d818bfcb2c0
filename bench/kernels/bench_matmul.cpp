// matmul benchmarks per weight type:
//   decode/<type>/<n_out>x<n_in>   one token (matrix-vector); GB/s of weight bytes streamed from memory
//                                  (the matrix is cycled through copies totalling > 4x the last-level cache)
//   decode_l2/<type>/<n_out>x4096  one token on a matrix that stays in L2: what the kernel could stream if
//                                  memory were infinitely fast (must be well above the memory bandwidth). About
//                                  384 KB whatever the type (rows a multiple of 8): a fixed 256 rows made Q6_K's
//                                  860 KB, most of a 1 MB L2 for one thread, and F32's 4 MB
//   prefill/<type>/<n_out>x<n_in>  512 tokens (4096x4096, 4096x14336); GFLOP/s counting 2 * n_in * n_out * n_tok
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>

#include "bench_util.h"
#include "kernels/isa.h"
#include "kernels/matmul.h"
#include "tensor/types.h"

namespace prima::kernels::bench {
namespace {

constexpr size_t kStreamBytes = size_t{256} << 20;

void bm_decode(benchmark::State& state, ggml_type t, int64_t n_out, int64_t n_in, size_t stream_bytes) {
  const Weights w = make_weights(t, n_out, n_in, stream_bytes);
  std::vector<float> x(static_cast<size_t>(n_in), 0.5f), y(static_cast<size_t>(n_out));
  int i = 0;
  for (auto _ : state) {
    matmul(pool(), {t, w.matrix(i), n_in, n_out, w.row_bytes}, x.data(), 1, y.data());
    benchmark::DoNotOptimize(y.data());
    i = (i + 1) % w.copies;
  }
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(w.matrix_bytes), benchmark::Counter::kIsIterationInvariantRate,
                                              benchmark::Counter::OneK::kIs1000);
  state.SetLabel(std::string(isa_name(active_isa())) + " threads=" + std::to_string(pool().n_threads()));
}

void bm_prefill(benchmark::State& state, ggml_type t, int64_t n_out, int64_t n_in, int64_t n_tok) {
  const Weights w = make_weights(t, n_out, n_in, 0);
  std::vector<float> x(static_cast<size_t>(n_in * n_tok)), y(static_cast<size_t>(n_out * n_tok));
  for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(k % 17) * 0.1f - 0.8f;
  for (auto _ : state) {
    matmul(pool(), {t, w.matrix(0), n_in, n_out, w.row_bytes}, x.data(), n_tok, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n_in * n_out * n_tok * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(isa_name(active_isa())) + " threads=" + std::to_string(pool().n_threads()));
}

const int registered = [] {
  for (ggml_type t : kSupportedTypes) {
    const std::string name(type_name(t));
    for (auto [n_out, n_in] : {std::pair<int64_t, int64_t>{4096, 4096}, {14336, 4096}}) {
      const std::string shape = std::to_string(n_out) + "x" + std::to_string(n_in);
      benchmark::RegisterBenchmark(("decode/" + name + "/" + shape).c_str(), bm_decode, t, n_out, n_in, kStreamBytes)
          ->UseRealTime()
          ->Unit(benchmark::kMicrosecond);
    }
    const auto l2_rows = std::max<int64_t>(8, static_cast<int64_t>((size_t{384} << 10) / row_size(t, 4096)) / 8 * 8);
    benchmark::RegisterBenchmark(("decode_l2/" + name + "/" + std::to_string(l2_rows) + "x4096").c_str(), bm_decode, t,
                                 l2_rows, 4096, 0)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
    // Llama-3-8B's attention and FFN-down shapes (a long row: fewer tokens per L2-sized tile).
    for (auto [n_out, n_in] : {std::pair<int64_t, int64_t>{4096, 4096}, {4096, 14336}}) {
      const std::string shape = std::to_string(n_out) + "x" + std::to_string(n_in);
      benchmark::RegisterBenchmark(("prefill/" + name + "/" + shape + "/512").c_str(), bm_prefill, t, n_out, n_in, 512)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  return 0;
}();

}  // namespace
}  // namespace prima::kernels::bench
