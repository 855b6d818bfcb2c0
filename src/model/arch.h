// Architectures as data: what differs between `llama` and `qwen2` is a row in a table, not a branch in
// forward(). Tensor names follow the GGUF convention ("blk.{il}.attn_q.weight").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace prima::model {

enum class Arch { llama, qwen2 };

// How RoPE pairs the dimensions of a head: NORM rotates adjacent pairs (x[2i], x[2i+1]) — llama; NEOX rotates
// the two halves (x[i], x[i + n_rot/2]) — qwen2.
enum class RopeType { norm, neox };

enum class LayerTensor {
  attn_norm, attn_q, attn_k, attn_v, attn_output, attn_q_bias, attn_k_bias, attn_v_bias,
  ffn_norm, ffn_gate, ffn_up, ffn_down,
};
inline constexpr int kLayerTensorCount = 12;

struct ArchInfo {
  Arch arch;
  std::string_view name;  // general.architecture
  RopeType rope_type;
  bool qkv_bias_required;  // qwen2 always carries Q/K/V biases; llama may (optional)
};

// The arch for `general.architecture`, or nullopt when prima does not run it.
std::optional<ArchInfo> find_arch(std::string_view name);
std::string supported_arch_list();  // "llama, qwen2"

// "blk.{il}.attn_q.weight" etc.
std::string layer_tensor_name(LayerTensor t, int il);

inline constexpr std::string_view kTokenEmbd = "token_embd.weight";
inline constexpr std::string_view kOutputNorm = "output_norm.weight";
inline constexpr std::string_view kOutput = "output.weight";
inline constexpr std::string_view kRopeFreqs = "rope_freqs.weight";

}  // namespace prima::model
