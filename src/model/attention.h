// Causal self-attention of a batch against the KV cache of one layer, grouped-query:
//   for token t (sequence s, position p) and head h (KV head g = h / n_gqa):
//     score[j] = q[t,h] · K[s,g,j] / sqrt(n_embd_head)      for j in 0..p
//     out[t,h] = sum_j softmax(score)[j] · V[s,g,j]
// The heads of one KV group are processed together: each cached key and value row is read and converted from
// f16 once per token for all of them.
// With an F16 cache, q and the softmax weights are rounded to f16 before their products with K and V, as
// llama.cpp does: on the random-weight fixtures a last-bit difference there flips 8-bit activation roundings
// downstream and moves the logits by ~3 %; matching it keeps us within the reference tolerance.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/thread_pool.h"
#include "model/batch.h"
#include "model/hparams.h"
#include "model/kv_cache.h"

namespace prima::model {

// q:   [n_tokens][n_head][n_embd_head]
// out: [n_tokens][n_head][n_embd_head]
// scratch: grown as needed (per thread: n_gqa * (n_ctx + n_embd_head) floats)
void attention(kernels::ThreadPool& pool, const HParams& hp, const KvCache& kv, int32_t il, const Batch& batch,
               const float* q, float* out, std::vector<float>& scratch);

}  // namespace prima::model
