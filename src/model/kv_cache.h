// The KV cache of one layer window: for every layer of the window and every sequence slot, keys and values
// of every position, as F16 (or F32 on request).
//
//   k[il][seq]: [n_head_kv][n_ctx][n_embd_head]   (each KV head's keys contiguous, position-major)
//   v[il][seq]: [n_head_kv][n_ctx][n_embd_head]
//
// Sequence s owns slot s and position p lives in cell p, so a sequence holds up to n_ctx positions and
// sequences never interfere. Positions of a sequence are filled without gaps: a batch may write position p of
// sequence s only when p <= len(s) (writing p < len(s) overwrites, after an explicit truncate).
#pragma once

#include <cstdint>
#include <vector>

#include "core/error.h"
#include "core/fp16.h"
#include "model/hparams.h"
#include "tensor/types.h"

namespace prima::model {

struct KvConfig {
  int32_t n_ctx = 0;  // positions per sequence
  int32_t n_seq = 1;  // sequence slots
  ggml_type type = ggml_type::F16;  // F16 or F32
};

class KvCache {
 public:
  KvCache(const HParams& hp, int32_t il_begin, int32_t il_end, KvConfig cfg);

  const KvConfig& config() const { return cfg_; }
  int32_t n_ctx() const { return cfg_.n_ctx; }
  int32_t n_seq() const { return cfg_.n_seq; }
  uint64_t n_bytes() const { return data_.size(); }
  static uint64_t bytes_needed(const HParams& hp, int32_t n_layers, const KvConfig& cfg);

  // Rows of one KV head of layer il (absolute layer index) for sequence seq: [n_ctx][n_embd_head].
  void* k(int32_t il, int32_t seq, int32_t kv_head);
  void* v(int32_t il, int32_t seq, int32_t kv_head);
  const void* k(int32_t il, int32_t seq, int32_t kv_head) const;
  const void* v(int32_t il, int32_t seq, int32_t kv_head) const;

  // Sequence bookkeeping.
  int32_t seq_len(int32_t seq) const { return len_[static_cast<size_t>(seq)]; }
  void clear();                               // every sequence
  void clear(int32_t seq);
  void truncate(int32_t seq, int32_t n_keep);  // keep positions [0, n_keep)
  void copy(int32_t src, int32_t dst);         // dst becomes a copy of src (prompt-prefix reuse)

  // Checks that a batch may be written (positions in range, no gaps); admit() also updates the lengths.
  Status check(const int32_t* pos, const int32_t* seq, int32_t n_tokens) const;
  Status admit(const int32_t* pos, const int32_t* seq, int32_t n_tokens);

 private:
  size_t offset(int32_t il, int32_t seq, int32_t kv_head, bool is_v) const;
  // Extends the lengths `len` by the batch, or says why it cannot be written.
  Status extend(std::vector<int32_t>& len, const int32_t* pos, const int32_t* seq, int32_t n_tokens) const;

  KvConfig cfg_;
  int32_t il_begin_, il_end_;
  int32_t n_head_kv_, n_embd_head_;
  size_t elem_size_;
  std::vector<uint8_t> data_;
  std::vector<int32_t> len_;  // [n_seq]
};

}  // namespace prima::model
