#include "model/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "core/fp16.h"
#include "kernels/ops.h"
#include "kernels/vec.h"

namespace prima::model {
namespace {

// F32 cache (--cache-type f32): plain loops, the rare path.
void scores_f32(const float* K, int32_t n_pos, int32_t hd, const float* q, float* sc) {
  for (int32_t j = 0; j < n_pos; ++j) {
    float s = 0;
    for (int32_t i = 0; i < hd; ++i) s += K[size_t(j) * hd + i] * q[i];
    sc[j] = s;
  }
}
void weighted_sum_f32(const float* V, int32_t n_pos, int32_t hd, const float* w, float* o) {
  for (int32_t j = 0; j < n_pos; ++j)
    for (int32_t i = 0; i < hd; ++i) o[i] += w[j] * V[size_t(j) * hd + i];
}

}  // namespace

void attention(kernels::ThreadPool& pool, const HParams& hp, const KvCache& kv, int32_t il, const Batch& batch,
               const float* q, float* out, std::vector<float>& scratch) {
  const int32_t n_gqa = hp.n_gqa(), hd = hp.n_embd_head, n_head = hp.n_head;
  const int32_t n_ctx = kv.n_ctx();
  const int nth = pool.n_threads();
  // Per thread: the scores of the n_gqa heads [n_gqa][n_ctx] and their queries rounded to f16 [n_gqa][hd].
  const size_t per_thread = static_cast<size_t>(n_gqa) * (static_cast<size_t>(n_ctx) + static_cast<size_t>(hd));
  if (scratch.size() < per_thread * static_cast<size_t>(nth)) scratch.resize(per_thread * static_cast<size_t>(nth));
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const bool f16 = kv.config().type == ggml_type::F16;
  const size_t row_stride = static_cast<size_t>(hd);  // elements between cached rows
  const int64_t n_items = int64_t{batch.n_tokens} * hp.n_head_kv;

  // Items (token, KV head) are claimed from a shared counter: a thread that starts late (descheduled, waking)
  // simply takes fewer, and nobody waits for it. Each item's result does not depend on which thread did it.
  std::atomic<int64_t> next{0};
  pool.run_shared([&](int ith, int) {
    float* sc = scratch.data() + per_thread * static_cast<size_t>(ith);  // [n_gqa][n_pos]
    float* q16 = sc + static_cast<size_t>(n_gqa) * n_ctx;                // [n_gqa][hd]
    for (int64_t item; (item = next.fetch_add(1, std::memory_order_relaxed)) < n_items;) {
      const int32_t t = static_cast<int32_t>(item / hp.n_head_kv);
      const int32_t g = static_cast<int32_t>(item % hp.n_head_kv);
      const int32_t s = batch.seq[t], n_pos = batch.pos[t] + 1;
      const void* K = kv.k(il, s, g);  // [n_ctx][hd]
      const void* V = kv.v(il, s, g);  // [n_ctx][hd]
      // The group's query heads g * n_gqa .. + n_gqa - 1 are adjacent in q and out: [n_gqa][hd].
      const size_t head0 = static_cast<size_t>(t) * n_head + static_cast<size_t>(g) * n_gqa;
      const size_t n_q = static_cast<size_t>(n_gqa) * hd;
      const float* qg = q + head0 * hd;
      float* og = out + head0 * hd;
      std::fill(og, og + n_q, 0.0f);
      if (f16) {
        // Like the cache, the queries and the attention weights take part at f16 precision, as in llama.cpp.
        // The n_gqa heads go through each cached row together (one conversion of it from f16 for all).
        std::copy(qg, qg + n_q, q16);
        kernels::round_to_f16(q16, static_cast<int64_t>(n_q));
        kernels::dot_f16_rows(static_cast<const fp16_t*>(K), row_stride, n_pos, q16, n_gqa, hd, sc);
        for (int32_t r = 0; r < n_gqa; ++r) kernels::softmax(sc + static_cast<size_t>(r) * n_pos, n_pos, scale);
        kernels::round_to_f16(sc, int64_t{n_gqa} * n_pos);
        kernels::axpy_f16_rows(static_cast<const fp16_t*>(V), row_stride, n_pos, sc, n_gqa, hd, og);
      } else {
        for (int32_t r = 0; r < n_gqa; ++r) {
          scores_f32(static_cast<const float*>(K), n_pos, hd, qg + static_cast<size_t>(r) * hd, sc);
          kernels::softmax(sc, n_pos, scale);
          weighted_sum_f32(static_cast<const float*>(V), n_pos, hd, sc, og + static_cast<size_t>(r) * hd);
        }
      }
    }
  });
}

}  // namespace prima::model
