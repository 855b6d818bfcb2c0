#include "model/hparams.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"

namespace prima::model {
namespace {

// A per-model integer key that some converters write as a per-layer array; all layers must agree.
int32_t get_layer_int(const gguf::File& f, const std::string& key, std::optional<int32_t> fallback, int32_t max) {
  const gguf::Value* v = f.find(key);
  int64_t value = 0;
  if (!v) {
    if (!fallback) fail("{}: missing required key '{}'", f.path(), key);
    value = *fallback;
  } else if (v->type == gguf::ValueType::array) {
    const auto arr = f.get_int_array(key);
    if (arr.empty()) fail("{}: key '{}' is an empty array", f.path(), key);
    for (auto x : arr)
      if (x != arr[0]) fail("{}: key '{}' differs between layers; prima needs the same value for every layer", f.path(), key);
    value = arr[0];
  } else {
    value = f.get_i64(key);
  }
  if (value < 1 || value > max) fail("{}: key '{}' = {} is out of range (1..{})", f.path(), key, value, max);
  return static_cast<int32_t>(value);
}

}  // namespace

HParams HParams::from_gguf(const gguf::File& f) {
  HParams hp;
  const auto arch_name = f.get_string("general.architecture");
  const auto arch = find_arch(arch_name);
  if (!arch)
    fail("{}: architecture '{}' is not supported (prima runs: {})", f.path(), arch_name, supported_arch_list());
  hp.arch = *arch;
  hp.name = std::string(f.find_string("general.name").value_or(arch_name));
  const std::string a(arch_name);
  auto key = [&](const char* suffix) { return a + "." + suffix; };

  constexpr int32_t kBig = 1 << 24;
  hp.n_ctx_train = get_layer_int(f, key("context_length"), std::nullopt, 1 << 26);
  hp.n_embd = get_layer_int(f, key("embedding_length"), std::nullopt, 1 << 20);
  hp.n_layer = get_layer_int(f, key("block_count"), std::nullopt, 4096);
  hp.n_ff = get_layer_int(f, key("feed_forward_length"), std::nullopt, kBig);
  hp.n_head = get_layer_int(f, key("attention.head_count"), std::nullopt, 1 << 12);
  hp.n_head_kv = get_layer_int(f, key("attention.head_count_kv"), hp.n_head, 1 << 12);
  if (hp.n_head % hp.n_head_kv != 0)
    fail("{}: head_count {} is not a multiple of head_count_kv {}", f.path(), hp.n_head, hp.n_head_kv);
  if (hp.n_embd % hp.n_head != 0 && !f.has(key("attention.key_length")))
    fail("{}: embedding_length {} is not a multiple of head_count {}", f.path(), hp.n_embd, hp.n_head);
  hp.n_embd_head = get_layer_int(f, key("attention.key_length"), hp.n_embd / hp.n_head, 1 << 14);
  const int32_t n_embd_head_v = get_layer_int(f, key("attention.value_length"), hp.n_embd_head, 1 << 14);
  if (n_embd_head_v != hp.n_embd_head)
    fail("{}: key_length {} differs from value_length {}; prima needs them equal", f.path(), hp.n_embd_head,
         n_embd_head_v);
  hp.n_rot = get_layer_int(f, key("rope.dimension_count"), hp.n_embd_head, hp.n_embd_head);
  if (hp.n_rot % 2 != 0) fail("{}: rope.dimension_count {} is odd", f.path(), hp.n_rot);

  hp.rms_eps = f.get_f32(key("attention.layer_norm_rms_epsilon"));
  if (!(hp.rms_eps > 0.0f && hp.rms_eps < 1.0f))
    fail("{}: attention.layer_norm_rms_epsilon {} is not in (0, 1)", f.path(), hp.rms_eps);

  hp.rope_freq_base = f.find_f32(key("rope.freq_base")).value_or(10000.0f);
  if (!(hp.rope_freq_base > 1.0f && std::isfinite(hp.rope_freq_base)))
    fail("{}: rope.freq_base {} must be a finite number > 1", f.path(), hp.rope_freq_base);

  // RoPE scaling: rope.scaling.type ("none", "linear", "yarn") and factor; older files: rope.scale_linear.
  float factor = f.find_f32(key("rope.scaling.factor")).value_or(0.0f);
  if (auto lin = f.find_f32(key("rope.scale_linear"))) factor = *lin;
  const auto type = f.find_string(key("rope.scaling.type")).value_or(factor > 0.0f ? "linear" : "none");
  if (type == "none") {
    hp.rope_scaling = RopeScaling::none;
  } else if (type == "linear") {
    hp.rope_scaling = RopeScaling::linear;
  } else if (type == "yarn") {
    hp.rope_scaling = RopeScaling::yarn;
  } else {
    fail("{}: rope.scaling.type '{}' is not supported (none, linear, yarn)", f.path(), type);
  }
  if (!(factor >= 0.0f && std::isfinite(factor))) fail("{}: rope.scaling.factor {} is invalid", f.path(), factor);
  hp.rope_freq_scale = (hp.rope_scaling == RopeScaling::none || factor == 0.0f) ? 1.0f : 1.0f / factor;
  hp.n_ctx_orig = static_cast<int32_t>(f.find_u32(key("rope.scaling.original_context_length")).value_or(
      static_cast<uint32_t>(hp.n_ctx_train)));
  if (hp.rope_scaling == RopeScaling::yarn) {
    hp.yarn_ext_factor = 1.0f;  // llama.cpp's default when the scaling type is YaRN
    hp.yarn_attn_factor = f.find_f32(key("rope.scaling.attn_factor")).value_or(1.0f);
    hp.yarn_beta_fast = f.find_f32(key("rope.scaling.yarn_beta_fast")).value_or(32.0f);
    hp.yarn_beta_slow = f.find_f32(key("rope.scaling.yarn_beta_slow")).value_or(1.0f);
  }

  // Vocabulary size: the embedding matrix is authoritative; the tokenizer must agree.
  const auto& emb = f.tensor(kTokenEmbd);
  if (emb.n_dims != 2 || emb.ne[0] != hp.n_embd)
    fail("{}: tensor '{}' has shape {}, expected [{}, n_vocab]", f.path(), kTokenEmbd, emb.shape_string(), hp.n_embd);
  if (emb.ne[1] > (1 << 24)) fail("{}: vocabulary of {} tokens is too large", f.path(), emb.ne[1]);
  hp.n_vocab = static_cast<int32_t>(emb.ne[1]);
  if (f.has("tokenizer.ggml.tokens")) {
    const auto n_tok = f.array_size("tokenizer.ggml.tokens");
    if (n_tok > static_cast<uint64_t>(hp.n_vocab))
      fail("{}: the tokenizer has {} tokens but '{}' has only {} rows", f.path(), n_tok, kTokenEmbd, hp.n_vocab);
  }
  hp.has_rope_freqs = f.find_tensor(kRopeFreqs) != nullptr;
  return hp;
}

std::string HParams::summary() const {
  return fmt::format(
      "{} ({}): n_layer {}, n_embd {}, n_head {}, n_head_kv {}, head dim {}, n_ff {}, n_vocab {}, n_ctx_train {}, "
      "rope base {}{}",
      name, arch.name, n_layer, n_embd, n_head, n_head_kv, n_embd_head, n_ff, n_vocab, n_ctx_train, rope_freq_base,
      rope_scaling == RopeScaling::none ? "" : fmt::format(", rope scale {}", rope_freq_scale));
}

}  // namespace prima::model
