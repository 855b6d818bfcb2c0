#include "model/weights.h"

#include <fmt/format.h>

#include <cmath>

#include "core/error.h"
#include "kernels/quant.h"

namespace prima::model {
namespace {

std::string shape(std::initializer_list<int64_t> ne) {
  std::string s = "[";
  for (auto n : ne) s += fmt::format("{}{}", s.size() > 1 ? ", " : "", n);
  return s + "]";
}

const gguf::TensorInfo& expect(const gguf::File& f, const std::string& name, std::initializer_list<int64_t> ne) {
  const auto& t = f.tensor(name);
  bool ok = t.n_dims == static_cast<int>(ne.size());
  int d = 0;
  for (auto n : ne) ok = ok && t.ne[d++] == n;
  if (!ok) fail("{}: tensor '{}' has shape {}, expected {}", f.path(), name, t.shape_string(), shape(ne));
  if (!traits(t.type).supported)
    fail("{}: tensor '{}' has type {}, which prima cannot compute with yet", f.path(), name, type_name(t.type));
  return t;
}

kernels::WeightMatrix matrix(const gguf::TensorInfo& t) {
  return kernels::WeightMatrix{t.type, t.data, t.ne[0], t.ne[1], static_cast<size_t>(row_size(t.type, t.ne[0]))};
}

Vec vec(const gguf::File& f, const gguf::TensorInfo& t) {
  Vec v;
  if (t.type == ggml_type::F32) {
    v.data = reinterpret_cast<const float*>(t.data);
  } else {
    v.owned.resize(static_cast<size_t>(t.n_elements()));
    kernels::dequantize_row(t.type, t.data, v.owned.data(), t.n_elements());
    v.data = v.owned.data();
  }
  (void)f;
  return v;
}

FileRange range(const gguf::File& f, const gguf::TensorInfo& t) { return {f.data_offset() + t.offset, t.size}; }

}  // namespace

LayerWeights LayerWeights::load(const gguf::File& f, const HParams& hp, int il) {
  LayerWeights w;
  w.il = il;
  const int64_t n_embd = hp.n_embd, n_q = int64_t{hp.n_head} * hp.n_embd_head, n_kv = hp.n_embd_kv(), n_ff = hp.n_ff;
  auto name = [il](LayerTensor t) { return layer_tensor_name(t, il); };
  auto add = [&](const gguf::TensorInfo& t) {
    w.ranges.push_back(range(f, t));
    w.n_bytes += t.size;
    return &t;
  };

  w.attn_norm = vec(f, *add(expect(f, name(LayerTensor::attn_norm), {n_embd})));
  w.wq = matrix(*add(expect(f, name(LayerTensor::attn_q), {n_embd, n_q})));
  w.wk = matrix(*add(expect(f, name(LayerTensor::attn_k), {n_embd, n_kv})));
  w.wv = matrix(*add(expect(f, name(LayerTensor::attn_v), {n_embd, n_kv})));
  w.wo = matrix(*add(expect(f, name(LayerTensor::attn_output), {n_q, n_embd})));
  w.ffn_norm = vec(f, *add(expect(f, name(LayerTensor::ffn_norm), {n_embd})));
  w.w_gate = matrix(*add(expect(f, name(LayerTensor::ffn_gate), {n_embd, n_ff})));
  w.w_up = matrix(*add(expect(f, name(LayerTensor::ffn_up), {n_embd, n_ff})));
  w.w_down = matrix(*add(expect(f, name(LayerTensor::ffn_down), {n_ff, n_embd})));

  // Q/K/V biases: all three or none; required by qwen2.
  const bool has_bias = f.find_tensor(name(LayerTensor::attn_q_bias)) || f.find_tensor(name(LayerTensor::attn_k_bias)) ||
                        f.find_tensor(name(LayerTensor::attn_v_bias));
  if (has_bias || hp.arch.qkv_bias_required) {
    w.bq = vec(f, *add(expect(f, name(LayerTensor::attn_q_bias), {n_q})));
    w.bk = vec(f, *add(expect(f, name(LayerTensor::attn_k_bias), {n_kv})));
    w.bv = vec(f, *add(expect(f, name(LayerTensor::attn_v_bias), {n_kv})));
  }
  return w;
}

HeadWeights HeadWeights::load(const gguf::File& f, const HParams& hp) {
  HeadWeights h;
  const auto& emb = expect(f, std::string(kTokenEmbd), {hp.n_embd, hp.n_vocab});
  h.token_embd = &emb;
  h.input_ranges.push_back(range(f, emb));
  const auto& norm = expect(f, std::string(kOutputNorm), {hp.n_embd});
  h.output_norm = vec(f, norm);
  h.output_ranges.push_back(range(f, norm));
  if (f.find_tensor(kOutput)) {
    const auto& out = expect(f, std::string(kOutput), {hp.n_embd, hp.n_vocab});
    h.output = matrix(out);
    h.output_ranges.push_back(range(f, out));
  } else {
    h.output = matrix(emb);  // tied: the output layer is the embedding matrix
    h.tied_output = true;
    h.output_ranges.push_back(range(f, emb));
  }
  return h;
}

Vec load_rope_freqs(const gguf::File& f, const HParams& hp) {
  if (!hp.has_rope_freqs) return {};
  Vec v = vec(f, expect(f, std::string(kRopeFreqs), {hp.n_rot / 2}));
  for (int i = 0; i < hp.n_rot / 2; ++i)
    if (!(v.data[i] > 0.0f) || !std::isfinite(v.data[i]))
      fail("{}: tensor '{}' holds an invalid frequency factor {} at {}", f.path(), kRopeFreqs, v.data[i], i);
  return v;
}

}  // namespace prima::model
