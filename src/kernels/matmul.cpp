// matmul: quantize the activations once, then hand out (rows × tokens) tiles to the pool's threads. Every output
// is computed in the canonical order of gemm_impl.h whatever tile it falls in, so neither the tiling nor the
// thread count changes a bit of the result.
#include "kernels/matmul.h"

#include <algorithm>
#include <atomic>

#include "core/error.h"
#include "kernels/gemm_impl.h"
#include "kernels/isa.h"

namespace prima::kernels {
namespace {

constexpr size_t kTileBytes = 256 * 1024;  // weight rows (and activation rows) per tile: about a quarter of L2
constexpr int64_t kItemsPerThread = 8;      // dynamic work items per thread, for balance on shared cores

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t m) { return ceil_div(a, m) * m; }

}  // namespace

void matmul(ThreadPool& pool, const WeightMatrix& w, const float* x, int64_t n_tok, float* y) {
  using namespace detail;
  const IsaKernels& k = kernels_for(active_isa());
  const TileFn tile = k.tile[static_cast<uint32_t>(w.type)];
  PRIMA_ASSERT(tile != nullptr);
  if (n_tok <= 0 || w.n_out <= 0) return;
  const int nth = pool.n_threads();

  // 1. Activations: x[n_tok][n_in] -> act[n_tok][a_stride bytes].
  const ActFormat fmt = act_format(w.type);
  const uint8_t* act = reinterpret_cast<const uint8_t*>(x);
  size_t a_stride = static_cast<size_t>(w.n_in) * sizeof(float);
  if (fmt != ActFormat::f32) {
    a_stride = act_row_bytes(fmt, w.n_in);
    auto* buf = static_cast<uint8_t*>(pool.scratch(a_stride * static_cast<size_t>(n_tok), ThreadPool::kScratchMatmul));
    const QuantizeActFn quantize = fmt == ActFormat::q8_32 ? k.quantize_q8_32
                                   : fmt == ActFormat::q8_1 ? k.quantize_q8_1
                                                            : k.quantize_q8_K;
    if (n_tok < 2 * nth) {
      for (int64_t t = 0; t < n_tok; ++t) quantize(x + t * w.n_in, buf + t * a_stride, w.n_in);
    } else {
      std::atomic<int64_t> next{0};
      pool.run_shared([&](int, int) {
        for (int64_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < n_tok;)
          quantize(x + t * w.n_in, buf + t * a_stride, w.n_in);
      });
    }
    act = buf;
  }

  // 2. Work items: tok_block tokens × rows, sized for L2, numbered row block major so that consecutive items
  //    reuse the same weight rows (read once from memory) against different tokens. The last nth big row
  //    blocks are cut into eighths: a thread finishing its last big block while another starts one would
  //    otherwise idle for up to a whole block at the end of every decode matmul.
  const int64_t tok_block =
      n_tok <= 8 ? n_tok : std::clamp<int64_t>(static_cast<int64_t>(kTileBytes / a_stride) / 4 * 4, 4, 64);
  const int64_t n_tb = ceil_div(n_tok, tok_block);
  const int64_t rows_cache = std::max<int64_t>(4, static_cast<int64_t>(kTileBytes / w.row_bytes));
  const int64_t rows_balance = ceil_div(w.n_out, ceil_div(nth * kItemsPerThread, n_tb));
  // Multiples of 8 rows: the quantized kernels work on 8 rows at a time (one vector lane each).
  const int64_t big = std::max<int64_t>(8, round_up(std::min(rows_cache, rows_balance), 8));
  const int64_t small = std::max<int64_t>(8, round_up(big / 8, 8));
  const int64_t n_big = nth > 1 ? std::max<int64_t>(0, (w.n_out - nth * big) / big) : ceil_div(w.n_out, big);
  const int64_t tail_r0 = std::min(w.n_out, n_big * big);
  const int64_t n_rb = n_big + ceil_div(w.n_out - tail_r0, small);
  const int64_t n_items = n_rb * n_tb;

  const auto* wdata = static_cast<const uint8_t*>(w.data);
  auto do_item = [&](int64_t it) {
    const int64_t rb = it / n_tb, t0 = it % n_tb * tok_block;
    const int64_t r0 = rb < n_big ? rb * big : tail_r0 + (rb - n_big) * small;
    const int nr = static_cast<int>(std::min(rb < n_big ? big : small, w.n_out - r0));
    const int nc = static_cast<int>(std::min(tok_block, n_tok - t0));
    tile(w.n_in, wdata + r0 * w.row_bytes, w.row_bytes, nr, act + t0 * a_stride, a_stride, nc, y + t0 * w.n_out + r0,
         static_cast<size_t>(w.n_out));
  };
  if (nth == 1 || n_items == 1) {
    for (int64_t it = 0; it < n_items; ++it) do_item(it);
    return;
  }
  std::atomic<int64_t> next{0};
  pool.run_shared([&](int, int) {  // a late worker is skipped, not waited for
    for (int64_t it; (it = next.fetch_add(1, std::memory_order_relaxed)) < n_items;) do_item(it);
  });
}

}  // namespace prima::kernels
