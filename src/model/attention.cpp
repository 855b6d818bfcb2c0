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
  // Per thread: scores [n_ctx] and the query head rounded to f16 [hd].
  const size_t per_thread = static_cast<size_t>(n_ctx) + static_cast<size_t>(hd);
  if (scratch.size() < per_thread * static_cast<size_t>(nth)) scratch.resize(per_thread * static_cast<size_t>(nth));
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const bool f16 = kv.config().type == ggml_type::F16;
  const size_t row_stride = static_cast<size_t>(hd);  // elements between cached rows
  const int64_t n_items = int64_t{batch.n_tokens} * hp.n_head_kv;

  // Items (token, KV head) are claimed from a shared counter: a thread that starts late (descheduled, waking)
  // simply takes fewer, and nobody waits for it. Each item's result does not depend on which thread did it.
  std::atomic<int64_t> next{0};
  pool.run_shared([&](int ith, int) {
    float* sc = scratch.data() + per_thread * static_cast<size_t>(ith);  // [n_ctx]
    float* q16 = sc + n_ctx;                                             // [hd]
    for (int64_t item; (item = next.fetch_add(1, std::memory_order_relaxed)) < n_items;) {
      const int32_t t = static_cast<int32_t>(item / hp.n_head_kv);
      const int32_t g = static_cast<int32_t>(item % hp.n_head_kv);
      const int32_t s = batch.seq[t], n_pos = batch.pos[t] + 1;
      const void* K = kv.k(il, s, g);  // [n_ctx][hd]
      const void* V = kv.v(il, s, g);  // [n_ctx][hd]
      for (int32_t r = 0; r < n_gqa; ++r) {
        const size_t head = static_cast<size_t>(t) * n_head + static_cast<size_t>(g * n_gqa + r);
        const float* qh = q + head * hd;
        float* o = out + head * hd;
        std::fill(o, o + hd, 0.0f);
        if (f16) {
          // Like the cache, the query and the attention weights take part at f16 precision, as in llama.cpp.
          std::copy(qh, qh + hd, q16);
          kernels::round_to_f16(q16, hd);
          kernels::dot_f16_rows(static_cast<const fp16_t*>(K), row_stride, n_pos, q16, hd, sc);
        } else {
          scores_f32(static_cast<const float*>(K), n_pos, hd, qh, sc);
        }
        for (int32_t j = 0; j < n_pos; ++j) sc[j] *= scale;
        kernels::softmax(sc, n_pos);
        if (f16) {
          kernels::round_to_f16(sc, n_pos);
          kernels::axpy_f16_rows(static_cast<const fp16_t*>(V), row_stride, n_pos, sc, hd, o);
        } else {
          weighted_sum_f32(static_cast<const float*>(V), n_pos, hd, sc, o);
        }
      }
    }
  });
}

}  // namespace prima::model
