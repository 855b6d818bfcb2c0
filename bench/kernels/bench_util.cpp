#include "bench_util.h"

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

#include "kernels/quant.h"

namespace prima::kernels::bench {

ThreadPool& pool() {
  static ThreadPool p([] {
    const char* env = std::getenv("PRIMA_BENCH_THREADS");
    return env ? std::max(1, std::atoi(env)) : 2;
  }());
  return p;
}

Weights make_weights(ggml_type t, int64_t n_out, int64_t n_in, size_t min_total_bytes) {
  Weights w{t, n_in, n_out, row_size(t, n_in), 0, 1, {}};
  w.matrix_bytes = w.row_bytes * static_cast<size_t>(n_out);
  w.copies = static_cast<int>(std::max<size_t>(1, (min_total_bytes + w.matrix_bytes - 1) / w.matrix_bytes));
  w.data = std::make_shared<HugePageBuffer>(w.matrix_bytes * static_cast<size_t>(w.copies));
  uint8_t* const data = w.data->data();
  const int64_t distinct = std::min<int64_t>(64, n_out);
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<float> row(static_cast<size_t>(n_in));
  for (int64_t r = 0; r < distinct; ++r) {
    for (auto& v : row) v = dist(rng);
    quantize_row(t, row.data(), data + r * w.row_bytes, n_in);
  }
  for (int64_t r = distinct; r < n_out * w.copies; ++r)
    std::memcpy(data + r * w.row_bytes, data + (r % distinct) * w.row_bytes, w.row_bytes);
  return w;
}

}  // namespace prima::kernels::bench
