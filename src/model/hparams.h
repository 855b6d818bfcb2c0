// Hyperparameters from GGUF keys ("<arch>.embedding_length", ...), with the defaults llama.cpp applies when a
// key is missing (head_count_kv = head_count, rope.freq_base = 10000, rope.dimension_count = head dim, ...).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "model/arch.h"

namespace prima::model {

enum class RopeScaling { none, linear, yarn };

struct HParams {
  ArchInfo arch;
  std::string name;         // general.name, for messages

  int32_t n_vocab = 0;
  int32_t n_ctx_train = 0;  // context the model was trained with
  int32_t n_embd = 0;
  int32_t n_layer = 0;
  int32_t n_head = 0;
  int32_t n_head_kv = 0;
  int32_t n_ff = 0;
  int32_t n_embd_head = 0;  // head dimension (key_length = value_length)
  int32_t n_rot = 0;        // dimensions of a head that RoPE rotates
  float rms_eps = 1e-5f;

  // RoPE
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;  // 1 / rope.scaling.factor
  RopeScaling rope_scaling = RopeScaling::none;
  int32_t n_ctx_orig = 0;        // rope.scaling.original_context_length (YaRN)
  float yarn_ext_factor = 0.0f;  // > 0 with YaRN
  float yarn_attn_factor = 1.0f;
  float yarn_beta_fast = 32.0f;
  float yarn_beta_slow = 1.0f;
  bool has_rope_freqs = false;  // Llama 3.1: per-dimension frequency factors in rope_freqs.weight

  int32_t n_embd_kv() const { return n_head_kv * n_embd_head; }  // K (and V) row width per token
  int32_t n_gqa() const { return n_head / n_head_kv; }

  // Reads and validates; throws prima::Error naming the file and the key.
  static HParams from_gguf(const gguf::File& f);
  std::string summary() const;
};

}  // namespace prima::model
