#include "scheduler/synthetic.h"

#include <array>
#include <utility>

#include "core/error.h"

namespace prima::scheduler {

double bytes_per_weight(const std::string& type) {
  // bytes per block / weights per block, as GGML lays the types out.
  static constexpr std::array<std::pair<const char*, double>, 15> kTypes = {{
      {"F32", 4.0},
      {"F16", 2.0},
      {"BF16", 2.0},
      {"Q8_0", 34.0 / 32},
      {"Q4_0", 18.0 / 32},
      {"Q4_1", 20.0 / 32},
      {"Q5_0", 22.0 / 32},
      {"Q5_1", 24.0 / 32},
      {"Q2_K", 84.0 / 256},
      {"Q3_K", 110.0 / 256},
      {"Q4_K", 144.0 / 256},
      {"Q5_K", 176.0 / 256},
      {"Q6_K", 210.0 / 256},
      {"IQ4_NL", 18.0 / 32},
      {"Q8_K", 292.0 / 256},
  }};
  for (const auto& [name, b] : kTypes)
    if (type == name) return b;
  return 0;
}

ModelStats synthetic_model_stats(const ModelShape& s) {
  PRIMA_CHECK(s.n_layer > 0 && s.n_embd > 0 && s.n_head > 0 && s.n_head_kv > 0 && s.n_ff > 0 && s.n_vocab > 0,
              "model shape '{}': every dimension must be > 0", s.name);
  PRIMA_CHECK(s.n_embd % s.n_head == 0 && s.n_head % s.n_head_kv == 0,
              "model shape '{}': n_embd must divide by n_head and n_head by n_head_kv", s.name);
  for (const auto* t : {&s.layer_type, &s.embd_type, &s.output_type})
    PRIMA_CHECK(bytes_per_weight(*t) > 0, "model shape '{}': unknown weight type '{}'", s.name, *t);

  ModelStats m;
  m.name = s.name;
  m.arch = "llama";
  m.n_layer = s.n_layer;
  m.n_embd = s.n_embd;
  m.n_head = s.n_head;
  m.n_head_kv = s.n_head_kv;
  m.n_embd_head = s.n_embd / s.n_head;
  m.n_ff = s.n_ff;
  m.n_vocab = s.n_vocab;
  m.n_ctx_train = s.n_ctx_train;
  m.derive_attention();

  const double e = s.n_embd, kv = static_cast<double>(s.n_head_kv) * m.n_embd_head, ff = s.n_ff;
  const double n_matmul = e * e * 2 + e * kv * 2 + e * ff * 3;  // q, o, k, v, gate, up, down
  LayerStats layer;
  layer.bytes_by_type[s.layer_type] = static_cast<uint64_t>(n_matmul * bytes_per_weight(s.layer_type));
  layer.bytes_by_type["F32"] += static_cast<uint64_t>(2 * e * 4);  // attn_norm, ffn_norm
  layer.flops_by_type[s.layer_type] = 2 * n_matmul;
  for (const auto& [t, b] : layer.bytes_by_type) layer.bytes += b;
  layer.flops = 2 * n_matmul;
  m.layers.assign(static_cast<size_t>(s.n_layer), layer);

  const double n_embd_table = e * s.n_vocab;
  m.input_bytes = static_cast<uint64_t>(n_embd_table * bytes_per_weight(s.embd_type));
  m.input_row_bytes = static_cast<uint64_t>(e * bytes_per_weight(s.embd_type));
  m.tied_output = s.tied_output;
  const std::string& out_type = s.tied_output ? s.embd_type : s.output_type;
  m.output_bytes = static_cast<uint64_t>(n_embd_table * bytes_per_weight(out_type)) + static_cast<uint64_t>(e * 4);
  m.output_flops_by_type[out_type] = 2 * n_embd_table;
  m.output_flops = 2 * n_embd_table;

  m.weight_bytes = m.layer_bytes_total() + m.input_bytes + static_cast<uint64_t>(e * 4);
  if (!s.tied_output) m.weight_bytes += static_cast<uint64_t>(n_embd_table * bytes_per_weight(s.output_type));
  return m;
}

ModelShape llama3_70b_shape() {
  ModelShape s;
  s.name = "llama-3-70b-q4k";
  s.n_layer = 80;
  s.n_embd = 8192;
  s.n_head = 64;
  s.n_head_kv = 8;
  s.n_ff = 28672;
  return s;
}

ModelShape llama3_8b_shape() {
  ModelShape s;
  s.name = "llama-3-8b-q4k";
  return s;
}

}  // namespace prima::scheduler
