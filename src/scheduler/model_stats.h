// What the scheduler needs to know about a model: bytes and FLOPs per layer, the head's extra layers, the
// KV cache and the hidden state that crosses the network. Plain data, header-only: `model/stats.h` fills it
// from a GGUF file and `scheduler/synthetic.h` from a shape, without either linking the other.
//
// Units: bytes, FLOPs (one multiply-add = 2 FLOPs) per token. Tensor types are GGML type names ("Q4_K").
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace prima::scheduler {

// One transformer block (blk.<il>.*).
struct LayerStats {
  std::map<std::string, uint64_t> bytes_by_type;  // weight bytes of this block per tensor type
  std::map<std::string, double> flops_by_type;    // matrix-vector FLOPs per token, by the weight's type
  uint64_t bytes = 0;                             // sum of bytes_by_type
  double flops = 0;                               // sum of flops_by_type
};

struct ModelStats {
  std::string name;  // general.name or the file name
  std::string arch;  // general.architecture ("llama", "qwen2")

  int n_layer = 0;
  int n_embd = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int n_embd_head = 0;  // per-head dimension of Q and K
  int n_ff = 0;
  int n_vocab = 0;
  int n_ctx_train = 0;

  std::vector<LayerStats> layers;  // [n_layer]

  // Head-only layers. The input embedding is touched one row per token; the output layer (output.weight, or
  // token_embd.weight when the output is tied to it, plus output_norm) is read whole for every token.
  uint64_t input_bytes = 0;      // token_embd.weight, whole
  uint64_t input_row_bytes = 0;  // one row of it: what a token touches
  uint64_t output_bytes = 0;     // bytes the output layer reads per token
  std::map<std::string, double> output_flops_by_type;
  double output_flops = 0;
  bool tied_output = false;  // no output.weight: the output reuses token_embd.weight

  uint64_t other_bytes = 0;   // tensors outside blocks and head (rope_freqs, ...): resident on every device
  uint64_t weight_bytes = 0;  // every tensor in the file

  // KV cache bytes one token adds to one layer (K and V, at kv_type_bytes per element).
  uint64_t kv_bytes_per_token_per_layer = 0;
  // Attention FLOPs per token per layer for each position already in the cache (QK^T and AV).
  double attn_flops_per_token_per_layer_per_pos = 0;
  // One hidden state: f32 [n_embd], what each ring hop carries per token.
  uint64_t hidden_bytes_per_token = 0;

  // Mean of the blocks: the scheduler plans with identical layers (a K-quant mix varies a little from one
  // block to the next; windows interleave over the cycles, so the mean is what a device sees).
  LayerStats mean_layer() const {
    LayerStats m;
    if (layers.empty()) return m;
    const double n = static_cast<double>(layers.size());
    std::map<std::string, double> bytes;
    for (const auto& l : layers) {
      for (const auto& [t, b] : l.bytes_by_type) bytes[t] += static_cast<double>(b);
      for (const auto& [t, f] : l.flops_by_type) m.flops_by_type[t] += f / n;
    }
    for (const auto& [t, b] : bytes) {
      m.bytes_by_type[t] = static_cast<uint64_t>(b / n + 0.5);
      m.bytes += m.bytes_by_type[t];
    }
    for (const auto& [t, f] : m.flops_by_type) m.flops += f;
    return m;
  }

  // Sets the KV, attention and hidden-state figures from the hyperparameters (n_embd, n_head, n_head_kv,
  // n_embd_head): K and V of n_head_kv heads per token per layer, cached at kv_type_bytes per element
  // (2: f16); QK^T and AV cost 2 * n_embd_head FLOPs per head per cached position each.
  void derive_attention(uint64_t kv_type_bytes = 2) {
    const uint64_t n_embd_kv = static_cast<uint64_t>(n_head_kv) * static_cast<uint64_t>(n_embd_head);
    kv_bytes_per_token_per_layer = 2 * n_embd_kv * kv_type_bytes;
    attn_flops_per_token_per_layer_per_pos = 4.0 * n_head * n_embd_head;
    hidden_bytes_per_token = 4ull * static_cast<uint64_t>(n_embd);
  }

  uint64_t layer_bytes_total() const {
    uint64_t s = 0;
    for (const auto& l : layers) s += l.bytes;
    return s;
  }

  // Scratch one device needs to compute a token at context n_ctx (activations and attention scores, f32);
  // the head also holds the logits.
  // n_ubatch: tokens of the largest micro-batch (the activation buffers grow to it and stay).
  uint64_t work_bytes(int n_ctx, bool head, int n_ubatch = 1) const {
    const uint64_t f = 4, n_ub = static_cast<uint64_t>(std::max(1, n_ubatch));
    uint64_t b = f * (n_ub * (7ull * static_cast<uint64_t>(n_embd) + 2ull * static_cast<uint64_t>(n_ff)) +
                      static_cast<uint64_t>(n_head) * static_cast<uint64_t>(n_ctx));
    if (head) b += f * static_cast<uint64_t>(n_vocab);
    return b;
  }
};

}  // namespace prima::scheduler
