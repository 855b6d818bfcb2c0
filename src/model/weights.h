// Weights of one layer and of the head (embedding, final norm, output), as views into the mapped GGUF file.
// Shapes are checked once, here, against the hyperparameters; forward() trusts them.
// Matrices are GGUF-shaped: ne = [n_in, n_out] — n_out rows of n_in contiguous values.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "gguf/gguf.h"
#include "kernels/matmul.h"
#include "model/hparams.h"

namespace prima::model {

// A small f32 vector (norm weights, biases): a view into the file when stored as F32, otherwise converted
// once at load into owned storage.
struct Vec {
  const float* data = nullptr;
  std::vector<float> owned;
  explicit operator bool() const { return data != nullptr; }
};

// A byte range of the model file: [offset, offset + size).
struct FileRange {
  uint64_t offset;
  uint64_t size;
};

struct LayerWeights {
  int il = 0;
  Vec attn_norm;                 // [n_embd]
  kernels::WeightMatrix wq;      // [n_embd -> n_head * n_embd_head]
  kernels::WeightMatrix wk;      // [n_embd -> n_embd_kv]
  kernels::WeightMatrix wv;      // [n_embd -> n_embd_kv]
  Vec bq, bk, bv;                // optional biases (qwen2): [n_head * n_embd_head], [n_embd_kv], [n_embd_kv]
  kernels::WeightMatrix wo;      // [n_head * n_embd_head -> n_embd]
  Vec ffn_norm;                  // [n_embd]
  kernels::WeightMatrix w_gate;  // [n_embd -> n_ff]
  kernels::WeightMatrix w_up;    // [n_embd -> n_ff]
  kernels::WeightMatrix w_down;  // [n_ff -> n_embd]
  std::vector<FileRange> ranges;  // where this layer's tensors lie in the file
  uint64_t n_bytes = 0;

  static LayerWeights load(const gguf::File& f, const HParams& hp, int il);
};

struct HeadWeights {
  const gguf::TensorInfo* token_embd = nullptr;  // [n_embd, n_vocab]
  Vec output_norm;                               // [n_embd]
  kernels::WeightMatrix output;                  // [n_embd -> n_vocab]; token_embd when tied
  bool tied_output = false;
  std::vector<FileRange> input_ranges;   // embedding (only touched row by row)
  std::vector<FileRange> output_ranges;  // output norm + output matrix

  static HeadWeights load(const gguf::File& f, const HParams& hp);
};

// Llama 3.1 per-dimension RoPE frequency factors (rope_freqs.weight, [n_rot / 2]); empty when absent. Every
// device needs them, not only the head.
Vec load_rope_freqs(const gguf::File& f, const HParams& hp);

}  // namespace prima::model
