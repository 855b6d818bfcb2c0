// Model statistics for a transformer shape without a file: tests, benchmarks and what-if planning
// ("how would a 70B model run on this cluster?"). Llama-style blocks: attn_q/k/v/output, ffn_gate/up/down,
// two norms; token_embd and output (unless tied) at the head.
#pragma once

#include <string>

#include "scheduler/model_stats.h"

namespace prima::scheduler {

struct ModelShape {
  std::string name = "synthetic";
  int n_layer = 32;
  int n_embd = 4096;
  int n_head = 32;
  int n_head_kv = 8;
  int n_ff = 14336;
  int n_vocab = 128256;
  int n_ctx_train = 8192;
  std::string layer_type = "Q4_K";   // every 2-D block weight
  std::string embd_type = "Q4_K";    // token_embd
  std::string output_type = "Q6_K";  // output (ignored when tied)
  bool tied_output = false;
};

// Throws prima::Error for an unknown type name or a non-positive dimension.
ModelStats synthetic_model_stats(const ModelShape& shape);

// Bytes per weight of a type by name (F32 4, Q4_K 0.5625, ...); 0 for an unknown name.
double bytes_per_weight(const std::string& type);

// The shapes of two well-known models at Q4_K_M-like sizes (all block weights Q4_K, output Q6_K).
ModelShape llama3_70b_shape();  // 80 layers, n_embd 8192, n_ff 28672, GQA 64/8, ~40 GB
ModelShape llama3_8b_shape();   // 32 layers, n_embd 4096, n_ff 14336, GQA 32/8, ~4.6 GB

}  // namespace prima::scheduler
