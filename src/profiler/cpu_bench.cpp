#include "profiler/cpu_bench.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <vector>

#include "core/clock.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"

namespace prima::profiler {
namespace {

constexpr int64_t kDistinctRows = 64;         // quantized once, then copied: a memory stream needs no more
constexpr size_t kPrefillBytes = 4u << 20;  // the prefill matrix: big enough to keep every thread busy

// Calls `call` repeatedly: one warm-up call, then `samples` samples of at least `sample_s` each; every sample's
// rate is work * calls / elapsed.
template <class F>
Estimate run_samples(int samples, double sample_s, double work_per_call, F&& call) {
  call();
  std::vector<double> rates;
  for (int s = 0; s < samples; ++s) {
    Stopwatch sw;
    int64_t calls = 0;
    do {
      call();
      ++calls;
    } while (sw.elapsed_s() < sample_s);
    rates.push_back(work_per_call * static_cast<double>(calls) / sw.elapsed_s());
  }
  return estimate(std::move(rates));
}

// `samples` samples over `seconds`, each at least `min_sample` long: fewer samples (never under 3) rather than
// samples too short to average a CPU quota's throttling out.
std::pair<int, double> plan_samples(const CpuBenchConfig& c, double seconds) {
  int n = std::max(1, c.samples);
  double per = seconds / n;
  if (c.min_sample_seconds > per) {
    per = c.min_sample_seconds;
    n = std::clamp(static_cast<int>(seconds / per), std::min(3, std::max(1, c.samples)), n);
  }
  return {n, per};
}

// Fills `rows` rows of `row_bytes` with kDistinctRows distinct quantizations of N(0, 0.02) data, repeated.
void synthesize(ggml_type type, int64_t n_in, size_t row_bytes, int64_t rows, uint8_t* dst) {
  std::mt19937 rng(1234);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<float> row(static_cast<size_t>(n_in));
  const int64_t distinct = std::min(kDistinctRows, rows);
  for (int64_t r = 0; r < distinct; ++r) {
    for (auto& v : row) v = dist(rng);
    kernels::quantize_row(type, row.data(), dst + static_cast<size_t>(r) * row_bytes, n_in);
  }
  // Double the filled prefix until done: row r ends up equal to row r % distinct, in few large copies.
  for (int64_t filled = distinct; filled < rows;) {
    const int64_t n = std::min(filled, rows - filled);
    std::memcpy(dst + static_cast<size_t>(filled) * row_bytes, dst, static_cast<size_t>(n) * row_bytes);
    filled += n;
  }
}

}  // namespace

void WeightArena::Free::operator()(uint8_t* p) const { std::free(p); }

uint8_t* WeightArena::get(size_t bytes) {
  if (bytes > size_) {
    data_.reset();
    const size_t rounded = (std::max<size_t>(bytes, 64) + 63) / 64 * 64;
    auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, rounded));
    if (p == nullptr) throw std::bad_alloc();
    data_.reset(p);
    size_ = rounded;
  }
  return data_.get();
}

TypeSpeed measure_type(kernels::ThreadPool& pool, ggml_type type, int64_t n_in, int64_t n_out,
                       const CpuBenchConfig& c, WeightArena& arena) {
  Stopwatch total;
  TypeSpeed r;
  r.type = type;
  r.n_in = n_in;
  const size_t row_bytes = row_size(type, static_cast<uint64_t>(n_in));
  const int64_t min_rows = std::min<int64_t>(n_out, 4 * pool.n_threads());
  const auto rows_in = [&](size_t bytes) { return static_cast<int64_t>(bytes / row_bytes); };

  // The streamed matrix keeps the model's shape unless two copies would not fit the working set.
  r.n_out = std::max<int64_t>(1, std::min(n_out, std::max(min_rows, rows_in(c.stream_bytes / 2))));
  const size_t matrix_bytes = static_cast<size_t>(r.n_out) * row_bytes;
  const size_t copies = std::max<size_t>(1, c.stream_bytes / matrix_bytes);
  r.stream_set_bytes = copies * matrix_bytes;
  r.n_out_hot = std::clamp(rows_in(c.hot_bytes), std::max<int64_t>(1, min_rows), r.n_out);
  r.n_out_prefill = std::clamp(rows_in(kPrefillBytes), std::max<int64_t>(1, min_rows), r.n_out);

  uint8_t* w = arena.get(r.stream_set_bytes);
  synthesize(type, n_in, row_bytes, static_cast<int64_t>(copies) * r.n_out, w);
  // What is left of the budget after the synthesis (a third of it at least: every run needs a few samples).
  const double left = std::max(c.seconds / 3, c.seconds - total.elapsed_s());

  std::vector<float> x(static_cast<size_t>(n_in));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(static_cast<int>(i % 23) - 11) * 0.05f;
  std::vector<float> y(static_cast<size_t>(r.n_out));

  // Streamed decode: every call reads the next copy, so the whole set cycles through the caches.
  {
    size_t i = 0;
    const auto [n, per] = plan_samples(c, left * 0.45);
    r.stream = run_samples(n, per, 2.0 * static_cast<double>(n_in) * static_cast<double>(r.n_out), [&] {
      kernels::matmul(pool, {type, w + i * matrix_bytes, n_in, r.n_out, row_bytes}, x.data(), 1, y.data());
      i = (i + 1) % copies;
    });
  }
  // Hot decode: one small matrix, resident in the caches after the warm-up call.
  {
    const auto [n, per] = plan_samples(c, left * 0.2);
    r.hot = run_samples(n, per, 2.0 * static_cast<double>(n_in) * static_cast<double>(r.n_out_hot), [&] {
      kernels::matmul(pool, {type, w, n_in, r.n_out_hot, row_bytes}, x.data(), 1, y.data());
    });
  }
  // Prefill: n_tok tokens.
  {
    const int64_t n_tok = std::max(2, c.prefill_tokens);
    std::vector<float> xs(static_cast<size_t>(n_tok * n_in));
    for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(static_cast<int>(i % 29) - 14) * 0.04f;
    std::vector<float> ys(static_cast<size_t>(n_tok * r.n_out_prefill));
    const auto [n, per] = plan_samples(c, left * 0.35);
    r.prefill = run_samples(
        n, per, 2.0 * static_cast<double>(n_in) * static_cast<double>(r.n_out_prefill) * static_cast<double>(n_tok),
        [&] { kernels::matmul(pool, {type, w, n_in, r.n_out_prefill, row_bytes}, xs.data(), n_tok, ys.data()); });
  }

  r.stream_bytes_per_s = r.stream.median * static_cast<double>(row_bytes) / (2.0 * static_cast<double>(n_in));
  r.bandwidth_bound = c.read_bandwidth > 0 && r.stream_bytes_per_s * c.bandwidth_bound_ratio >= c.read_bandwidth;
  if (!r.stream.valid())
    r.decode_flops = r.hot.median;
  else
    r.decode_flops = r.bandwidth_bound ? std::max(r.hot.median, r.stream.median) : r.stream.median;
  r.seconds = total.elapsed_s();
  return r;
}

}  // namespace prima::profiler
