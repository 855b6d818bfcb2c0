#include "model/synth.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>

#include "core/error.h"
#include "gguf/writer.h"
#include "kernels/quant.h"

namespace prima::model {

const std::vector<SynthShape>& synth_shapes() {
  static const std::vector<SynthShape> shapes = {
      // name           arch          layers embd  heads kv  n_ff   vocab   ctx     base     eps   tied
      {"llama2-7b", Arch::llama, 32, 4096, 32, 32, 11008, 32000, 4096, 10000.0f, 1e-5f, false},
      {"llama2-13b", Arch::llama, 40, 5120, 40, 40, 13824, 32000, 4096, 10000.0f, 1e-5f, false},
      {"llama2-70b", Arch::llama, 80, 8192, 64, 8, 28672, 32000, 4096, 10000.0f, 1e-5f, false},
      {"llama3-8b", Arch::llama, 32, 4096, 32, 8, 14336, 128256, 8192, 500000.0f, 1e-5f, false},
      {"llama3-70b", Arch::llama, 80, 8192, 64, 8, 28672, 128256, 8192, 500000.0f, 1e-5f, false},
      {"qwen25-0.5b", Arch::qwen2, 24, 896, 14, 2, 4864, 151936, 32768, 1000000.0f, 1e-6f, true},
      {"qwen25-1.5b", Arch::qwen2, 28, 1536, 12, 2, 8960, 151936, 32768, 1000000.0f, 1e-6f, true},
      {"qwen25-7b", Arch::qwen2, 28, 3584, 28, 4, 18944, 152064, 32768, 1000000.0f, 1e-6f, false},
      {"qwen25-14b", Arch::qwen2, 48, 5120, 40, 8, 13824, 152064, 32768, 1000000.0f, 1e-6f, false},
      {"qwen25-32b", Arch::qwen2, 64, 5120, 40, 8, 27648, 152064, 32768, 1000000.0f, 1e-6f, false},
      {"qwen25-72b", Arch::qwen2, 80, 8192, 64, 8, 29568, 152064, 32768, 1000000.0f, 1e-6f, false},
      // Small shapes for tests and quick experiments.
      {"tiny", Arch::llama, 8, 256, 8, 2, 768, 1024, 2048, 10000.0f, 1e-5f, false},
      {"small", Arch::llama, 16, 1024, 16, 4, 2816, 8192, 4096, 10000.0f, 1e-5f, false},
      {"medium", Arch::llama, 24, 2048, 16, 4, 5632, 32000, 4096, 10000.0f, 1e-5f, false},
  };
  return shapes;
}

std::optional<SynthShape> find_synth_shape(const std::string& name) {
  for (const auto& s : synth_shapes())
    if (s.name == name) return s;
  return std::nullopt;
}

std::vector<std::string> synth_file_types() {
  return {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "IQ4_NL"};
}

namespace {

bool use_more_bits(int32_t il, int32_t n_layer) {
  return il < n_layer / 8 || il >= 7 * n_layer / 8 || (il - n_layer / 8) % 3 == 2;
}

ggml_type fallback_32(ggml_type t) {
  switch (t) {
    case ggml_type::Q2_K: case ggml_type::Q3_K: return ggml_type::IQ4_NL;
    case ggml_type::Q4_K: return ggml_type::Q5_0;
    case ggml_type::Q5_K: return ggml_type::Q5_1;
    case ggml_type::Q6_K: return ggml_type::Q8_0;
    default: return t;
  }
}

}  // namespace

ggml_type synth_tensor_type(const std::string& ft, const std::string& tensor, int32_t il, int32_t n_layer,
                            int64_t row_len) {
  const bool is_norm_or_bias = tensor.find("norm") != std::string::npos || tensor.ends_with(".bias");
  if (is_norm_or_bias) return ggml_type::F32;
  const bool output = tensor == "output.weight";
  const bool v_or_down = tensor.find("attn_v.weight") != std::string::npos || tensor.find("ffn_down.weight") != std::string::npos;
  ggml_type t;
  if (ft == "F32") t = ggml_type::F32;
  else if (ft == "F16") t = ggml_type::F16;
  else if (ft == "BF16") t = ggml_type::BF16;
  else if (ft == "Q8_0") t = ggml_type::Q8_0;
  else if (ft == "Q4_0") t = output ? ggml_type::Q6_K : ggml_type::Q4_0;
  else if (ft == "Q4_1") t = output ? ggml_type::Q6_K : ggml_type::Q4_1;
  else if (ft == "Q5_0") t = output ? ggml_type::Q6_K : ggml_type::Q5_0;
  else if (ft == "Q5_1") t = output ? ggml_type::Q6_K : ggml_type::Q5_1;
  else if (ft == "IQ4_NL") t = output ? ggml_type::Q6_K : ggml_type::IQ4_NL;
  else if (ft == "Q6_K") t = ggml_type::Q6_K;
  else if (ft == "Q2_K") t = output ? ggml_type::Q6_K : v_or_down ? ggml_type::Q3_K : ggml_type::Q2_K;
  else if (ft == "Q3_K_M") t = output ? ggml_type::Q6_K : v_or_down ? (il < 2 ? ggml_type::Q5_K : ggml_type::Q4_K) : ggml_type::Q3_K;
  else if (ft == "Q4_K_M") t = output ? ggml_type::Q6_K : (v_or_down && use_more_bits(il, n_layer)) ? ggml_type::Q6_K : ggml_type::Q4_K;
  else if (ft == "Q5_K_M") t = output ? ggml_type::Q6_K : (v_or_down && use_more_bits(il, n_layer)) ? ggml_type::Q6_K : ggml_type::Q5_K;
  else fail("unknown file type '{}' (known: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K_M, Q4_K_M, Q5_K_M, Q6_K, IQ4_NL)", ft);
  if (row_len % traits(t).block_size != 0) t = fallback_32(t);
  if (row_len % traits(t).block_size != 0) t = ggml_type::F16;
  return t;
}

namespace {

// A pool of quantized random rows for one (type, row length, scale).
struct RowPool {
  ggml_type type;
  size_t row_bytes;
  std::vector<uint8_t> rows;  // [kRows][row_bytes]
  static constexpr size_t kRows = 64;
};

class RowPools {
 public:
  explicit RowPools(uint64_t seed) : rng_(seed) {}

  const RowPool& get(ggml_type type, int64_t n, float stddev) {
    const auto key = std::make_tuple(static_cast<int>(type), n, stddev);
    auto it = pools_.find(key);
    if (it != pools_.end()) return it->second;
    RowPool p{type, static_cast<size_t>(row_size(type, static_cast<uint64_t>(n))), {}};
    p.rows.resize(RowPool::kRows * p.row_bytes);
    std::normal_distribution<float> dist(0.0f, stddev);
    std::vector<float> row(static_cast<size_t>(n));
    for (size_t r = 0; r < RowPool::kRows; ++r) {
      for (auto& x : row) x = dist(rng_);
      kernels::quantize_row(type, row.data(), p.rows.data() + r * p.row_bytes, n);
    }
    return pools_.emplace(key, std::move(p)).first->second;
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
  std::map<std::tuple<int, int64_t, float>, RowPool> pools_;
};

struct TensorPlan {
  std::string name;
  ggml_type type;
  std::vector<int64_t> ne;
  float stddev;      // of random weights
  float constant;    // norms: value around which to draw (stddev small)
  bool is_constant;  // 1-d f32 tensors (norms, biases)
};

}  // namespace

uint64_t write_synth_model(const SynthOptions& opt, const std::string& path) {
  const auto& s = opt.shape;
  const auto ft = opt.file_type;
  (void)synth_tensor_type(ft, "x.weight", 0, 1, 256);  // validates the file type name early
  const std::string a = s.arch == Arch::llama ? "llama" : "qwen2";

  gguf::Writer w;
  w.set_string("general.architecture", a);
  w.set_string("general.name", "prima synth " + s.name + " " + ft);
  w.set_u32(a + ".context_length", static_cast<uint32_t>(s.n_ctx_train));
  w.set_u32(a + ".embedding_length", static_cast<uint32_t>(s.n_embd));
  w.set_u32(a + ".block_count", static_cast<uint32_t>(s.n_layer));
  w.set_u32(a + ".feed_forward_length", static_cast<uint32_t>(s.n_ff));
  w.set_u32(a + ".attention.head_count", static_cast<uint32_t>(s.n_head));
  w.set_u32(a + ".attention.head_count_kv", static_cast<uint32_t>(s.n_head_kv));
  w.set_f32(a + ".rope.freq_base", s.rope_freq_base);
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", s.rms_eps);
  w.set_u32("general.file_type", 0);

  // SPM vocabulary: <unk>, <s>, </s>, 256 byte tokens, then filler pieces.
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.emplace_back(buf);
    types.push_back(6);
  }
  const char* syll[] = {"a", "e", "i", "o", "u", "n", "s", "t", "r", "l", "m", "k"};
  for (int32_t i = static_cast<int32_t>(tokens.size()); i < s.n_vocab; ++i) {
    std::string piece = "\xe2\x96\x81";  // ▁
    for (int32_t v = i; v > 0; v /= 12) piece += syll[v % 12];
    piece += std::to_string(i);
    tokens.push_back(std::move(piece));
    types.push_back(1);
  }
  std::vector<float> scores(tokens.size());
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = -static_cast<float>(i);
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_f32_array("tokenizer.ggml.scores", scores);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_u32("tokenizer.ggml.unknown_token_id", 0);
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);

  const int64_t n_embd = s.n_embd, n_q = int64_t{s.n_head} * (s.n_embd / s.n_head),
                n_kv = int64_t{s.n_head_kv} * (s.n_embd / s.n_head), n_ff = s.n_ff, n_vocab = s.n_vocab;
  std::vector<TensorPlan> plan;
  auto matrix = [&](const std::string& name, int32_t il, int64_t n_in, int64_t n_out) {
    plan.push_back({name, synth_tensor_type(ft, name, il, s.n_layer, n_in), {n_in, n_out},
                    1.0f / std::sqrt(static_cast<float>(n_in)), 0, false});
  };
  auto vector = [&](const std::string& name, int64_t n, float value, float stddev) {
    plan.push_back({name, ggml_type::F32, {n}, stddev, value, true});
  };
  plan.push_back({"token_embd.weight", synth_tensor_type(ft, "token_embd.weight", 0, s.n_layer, n_embd), {n_embd, n_vocab}, 1.0f, 0, false});
  for (int32_t il = 0; il < s.n_layer; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    vector(b + "attn_norm.weight", n_embd, 1.0f, 0.05f);
    matrix(b + "attn_q.weight", il, n_embd, n_q);
    matrix(b + "attn_k.weight", il, n_embd, n_kv);
    matrix(b + "attn_v.weight", il, n_embd, n_kv);
    if (s.arch == Arch::qwen2) {
      vector(b + "attn_q.bias", n_q, 0.0f, 0.02f);
      vector(b + "attn_k.bias", n_kv, 0.0f, 0.02f);
      vector(b + "attn_v.bias", n_kv, 0.0f, 0.02f);
    }
    matrix(b + "attn_output.weight", il, n_q, n_embd);
    vector(b + "ffn_norm.weight", n_embd, 1.0f, 0.05f);
    matrix(b + "ffn_gate.weight", il, n_embd, n_ff);
    matrix(b + "ffn_up.weight", il, n_embd, n_ff);
    matrix(b + "ffn_down.weight", il, n_ff, n_embd);
  }
  vector("output_norm.weight", n_embd, 1.0f, 0.05f);
  if (!s.tied_output) matrix("output.weight", s.n_layer, n_embd, n_vocab);

  for (const auto& t : plan) w.add_tensor(t.name, t.type, t.ne);

  RowPools pools(opt.seed);
  std::vector<float> vec_buf;
  w.write(path, [&](size_t i, uint64_t offset, std::span<uint8_t> out) {
    const auto& t = plan[i];
    if (t.is_constant) {
      std::normal_distribution<float> dist(t.constant, t.stddev);
      vec_buf.resize(out.size() / 4);
      for (auto& x : vec_buf) x = dist(pools.rng());
      std::memcpy(out.data(), vec_buf.data(), out.size());
      return;
    }
    const auto& pool = pools.get(t.type, t.ne[0], t.stddev);
    // Rows are whole in each chunk only if the chunk size is a multiple of the row size; copy byte-wise
    // by row index so any chunking works.
    const uint64_t rb = pool.row_bytes;
    uint64_t pos = offset;
    size_t done = 0;
    while (done < out.size()) {
      const uint64_t row = pos / rb, within = pos % rb;
      const uint64_t pick = (row * 2654435761ull + i * 40503ull) % RowPool::kRows;
      const size_t n = static_cast<size_t>(std::min<uint64_t>(rb - within, out.size() - done));
      std::memcpy(out.data() + done, pool.rows.data() + pick * rb + within, n);
      done += n;
      pos += n;
    }
  });
  return std::filesystem::file_size(path);
}

}  // namespace prima::model
