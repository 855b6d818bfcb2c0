// matmul: quantize the activations once, then hand out (rows × tokens) tiles of one or several matrices to the
// pool's threads. Every output is computed in the canonical order of gemm_impl.h whatever tile it falls in, so
// neither the tiling, the grouping of matrices nor the thread count changes a bit of the result.
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

// One matrix's share of a matmul call: its tiling and where its activations and outputs are.
struct Plan {
  const WeightMatrix* w;
  float* y;
  detail::TileFn tile;
  int64_t tile_tokens;  // the table's fixed token block, or 0
  int64_t tile_rows;    // the table's prefill row block, or 0
  const uint8_t* act;
  size_t a_stride;
  int64_t tok_block, n_tb, big, small, n_big, tail_r0, n_items;
};

// 2. Work items: tok_block tokens × rows, sized for L2, numbered row block major so that consecutive items
//    reuse the same weight rows (read once from memory) against different tokens. The last nth big row blocks
//    are cut into eighths: a thread finishing its last big block while another starts one would otherwise idle
//    for up to a whole block at the end of every decode matmul.
void plan_items(Plan& p, int64_t n_tok, int nth) {
  const WeightMatrix& w = *p.w;
  p.tok_block = n_tok <= 8        ? n_tok
                : p.tile_tokens > 0 ? p.tile_tokens
                                    : std::clamp<int64_t>(static_cast<int64_t>(kTileBytes / p.a_stride) / 4 * 4, 4, 64);
  p.n_tb = ceil_div(n_tok, p.tok_block);
  const int64_t rows_cache = n_tok > 1 && p.tile_rows > 0 ? p.tile_rows
                                                         : std::max<int64_t>(4, static_cast<int64_t>(kTileBytes / w.row_bytes));
  const int64_t rows_balance = ceil_div(w.n_out, ceil_div(nth * kItemsPerThread, p.n_tb));
  // Multiples of the rows the quantized kernels take at a time (one vector lane each): 8 in decode, 16 in
  // prefill (the packed kernels on AVX-512; a 24-row tile of Q6_K FFN-down rows left a third of its second group
  // padding).
  const int64_t rows = n_tok > 1 ? 16 : 8;
  p.big = std::max<int64_t>(rows, round_up(std::min(rows_cache, rows_balance), rows));
  p.small = std::max<int64_t>(rows, round_up(p.big / 8, rows));
  p.n_big = nth > 1 ? std::max<int64_t>(0, (w.n_out - nth * p.big) / p.big) : ceil_div(w.n_out, p.big);
  p.tail_r0 = std::min(w.n_out, p.n_big * p.big);
  p.n_items = (p.n_big + ceil_div(w.n_out - p.tail_r0, p.small)) * p.n_tb;
}

void do_item(const Plan& p, int64_t it, int64_t n_tok) {
  const WeightMatrix& w = *p.w;
  const int64_t rb = it / p.n_tb, t0 = it % p.n_tb * p.tok_block;
  const int64_t r0 = rb < p.n_big ? rb * p.big : p.tail_r0 + (rb - p.n_big) * p.small;
  const int nr = static_cast<int>(std::min(rb < p.n_big ? p.big : p.small, w.n_out - r0));
  const int nc = static_cast<int>(std::min(p.tok_block, n_tok - t0));
  p.tile(w.n_in, static_cast<const uint8_t*>(w.data) + r0 * w.row_bytes, w.row_bytes, nr, p.act + t0 * p.a_stride,
         p.a_stride, nc, p.y + t0 * w.n_out + r0, static_cast<size_t>(w.n_out));
}

}  // namespace

void matmul(ThreadPool& pool, const WeightMatrix& w, const float* x, int64_t n_tok, float* y) {
  const MatmulJob job{w, y};
  matmul(pool, std::span<const MatmulJob>(&job, 1), x, n_tok);
}

void matmul(ThreadPool& pool, std::span<const MatmulJob> jobs, const float* x, int64_t n_tok) {
  using namespace detail;
  PRIMA_ASSERT(!jobs.empty() && jobs.size() <= kMaxJobs);
  if (n_tok <= 0) return;
  const IsaKernels& k = kernels_for(active_isa());
  const int nth = pool.n_threads();
  const int64_t n_in = jobs[0].w.n_in;

  // 1. Activations: x[n_tok][n_in] -> act[n_tok][a_stride bytes], once per format the jobs need (the formats
  //    share one scratch buffer, one after another).
  constexpr int kFormats = static_cast<int>(ActFormat::q8_K) + 1;  // every ActFormat
  size_t offset[kFormats] = {}, stride[kFormats] = {};
  bool used[kFormats] = {};
  for (const MatmulJob& j : jobs) {
    PRIMA_ASSERT(j.w.n_in == n_in && k.tile[static_cast<uint32_t>(j.w.type)] != nullptr);
    used[static_cast<int>(act_format(j.w.type))] = true;
  }
  size_t bytes = 0;
  for (int f = 0; f < kFormats; ++f) {
    if (!used[f] || static_cast<ActFormat>(f) == ActFormat::f32) continue;
    stride[f] = act_row_bytes(static_cast<ActFormat>(f), n_in);
    offset[f] = bytes;
    bytes += (stride[f] * static_cast<size_t>(n_tok) + 63) / 64 * 64;
  }
  auto* buf = bytes ? static_cast<uint8_t*>(pool.scratch(bytes, ThreadPool::kScratchMatmul)) : nullptr;
  for (int f = 0; f < kFormats; ++f) {
    if (!used[f] || static_cast<ActFormat>(f) == ActFormat::f32) continue;
    const QuantizeActFn quantize = act_quantizer(k, static_cast<ActFormat>(f));
    uint8_t* out = buf + offset[f];
    const size_t as = stride[f];
    if (n_tok < 2 * nth) {
      for (int64_t t = 0; t < n_tok; ++t) quantize(x + t * n_in, out + t * as, n_in);
    } else {
      std::atomic<int64_t> next{0};
      pool.run_shared([&](int, int) {
        for (int64_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < n_tok;)
          quantize(x + t * n_in, out + t * as, n_in);
      });
    }
  }

  // 2. Every job's work items, numbered one job after another and handed out together: one dispatch (and one
  //    wait) for all the matrices that read this input (Q, K, V; gate, up).
  Plan plans[kMaxJobs];
  int64_t first[kMaxJobs + 1] = {};
  for (size_t i = 0; i < jobs.size(); ++i) {
    Plan& p = plans[i];
    const ActFormat f = act_format(jobs[i].w.type);
    p.w = &jobs[i].w;
    p.y = jobs[i].y;
    p.tile = k.tile[static_cast<uint32_t>(jobs[i].w.type)];
    p.tile_tokens = k.tile_tokens[static_cast<uint32_t>(jobs[i].w.type)];
    p.tile_rows = k.tile_rows[static_cast<uint32_t>(jobs[i].w.type)];
    p.act = f == ActFormat::f32 ? reinterpret_cast<const uint8_t*>(x) : buf + offset[static_cast<int>(f)];
    p.a_stride = f == ActFormat::f32 ? static_cast<size_t>(n_in) * sizeof(float) : stride[static_cast<int>(f)];
    plan_items(p, n_tok, nth);
    first[i + 1] = first[i] + (jobs[i].w.n_out > 0 ? p.n_items : 0);
  }
  const int64_t n_items = first[jobs.size()];
  auto item = [&](int64_t it) {
    size_t j = 0;
    while (it >= first[j + 1]) ++j;
    do_item(plans[j], it - first[j], n_tok);
  };
  if (nth == 1 || n_items == 1) {
    for (int64_t it = 0; it < n_items; ++it) item(it);
    return;
  }
  std::atomic<int64_t> next{0};
  pool.run_shared([&](int, int) {  // a late worker is skipped, not waited for
    for (int64_t it; (it = next.fetch_add(1, std::memory_order_relaxed)) < n_items;) item(it);
  });
}

}  // namespace prima::kernels
