// Model statistics from GGUF files: exact figures on the fixtures, accounting identities, hostile files.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "gguf/gguf.h"
#include "gguf/writer.h"
#include "model/stats.h"
#include "scheduler/synthetic.h"

using namespace prima;

namespace {

std::string fixture(const std::string& name) { return std::string(PRIMA_FIXTURES_DIR) + "/models/" + name; }

}  // namespace

TEST(ModelStats, TinyLlamaF32Exact) {
  const auto f = gguf::File::open(fixture("tiny-llama-gqa-F32.gguf"));
  const auto s = model::compute_stats(f);
  EXPECT_EQ(s.arch, "llama");
  EXPECT_EQ(s.n_layer, 4);
  EXPECT_EQ(s.n_embd, 256);
  EXPECT_EQ(s.n_head, 8);
  EXPECT_EQ(s.n_head_kv, 2);
  EXPECT_EQ(s.n_embd_head, 32);
  EXPECT_EQ(s.n_ff, 768);
  EXPECT_EQ(s.n_vocab, 512);
  EXPECT_FALSE(s.tied_output);
  // q, o: 256x256; k, v: 256x64; gate, up, down: 256x768; two norms of 256.
  const uint64_t matmul = 2 * 256 * 256 + 2 * 256 * 64 + 3 * 256 * 768;
  for (const auto& l : s.layers) {
    EXPECT_EQ(l.bytes, (matmul + 2 * 256) * 4);
    EXPECT_EQ(l.bytes_by_type.size(), 1u);
    EXPECT_DOUBLE_EQ(l.flops, 2.0 * matmul);
  }
  EXPECT_EQ(s.input_bytes, 512u * 256 * 4);
  EXPECT_EQ(s.input_row_bytes, 256u * 4);
  EXPECT_EQ(s.output_bytes, 512u * 256 * 4 + 256 * 4);
  EXPECT_DOUBLE_EQ(s.output_flops, 2.0 * 512 * 256);
  EXPECT_EQ(s.kv_bytes_per_token_per_layer, 2u * 2 * 32 * 2);  // K and V, 2 heads of 32, f16
  EXPECT_DOUBLE_EQ(s.attn_flops_per_token_per_layer_per_pos, 4.0 * 8 * 32);
  EXPECT_EQ(s.hidden_bytes_per_token, 256u * 4);
}

TEST(ModelStats, TiedOutputReadsTheEmbedding) {
  const auto f = gguf::File::open(fixture("tiny-qwen2-F32.gguf"));
  const auto s = model::compute_stats(f);
  EXPECT_EQ(s.arch, "qwen2");
  EXPECT_EQ(s.n_layer, 3);
  EXPECT_TRUE(s.tied_output);
  EXPECT_EQ(s.output_bytes, s.input_bytes + 256 * 4);
  EXPECT_DOUBLE_EQ(s.output_flops, 2.0 * 512 * 256);
  // Q/K/V biases are 1-D: bytes, no FLOPs. q, o 256x256; k, v 256x128 (2 heads of 64); ffn 256x512 x3.
  const uint64_t matmul = 2 * 256 * 256 + 2 * 256 * 128 + 3 * 256 * 512;
  EXPECT_DOUBLE_EQ(s.layers[0].flops, 2.0 * matmul);
  EXPECT_EQ(s.layers[0].bytes, (matmul + 2 * 256 + 256 + 2 * 128) * 4);
}

TEST(ModelStats, EveryFixtureAddsUp) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(PRIMA_FIXTURES_DIR) + "/models")) {
    if (e.path().extension() != ".gguf") continue;
    const auto f = gguf::File::open(e.path().string());
    const auto s = model::compute_stats(f);
    uint64_t file_total = 0;
    for (const auto& t : f.tensors()) file_total += t.size;
    EXPECT_EQ(s.weight_bytes, file_total) << e.path();
    const uint64_t tied_dup = s.tied_output ? s.input_bytes : 0;
    EXPECT_EQ(s.layer_bytes_total() + s.input_bytes + s.output_bytes - tied_dup + s.other_bytes, file_total)
        << e.path();
    for (const auto& l : s.layers) {
      uint64_t by_type = 0;
      for (const auto& [t, b] : l.bytes_by_type) by_type += b;
      EXPECT_EQ(by_type, l.bytes);
      EXPECT_GT(l.flops, 0);
    }
    ++n;
  }
  EXPECT_GE(n, 30);

  // FLOPs depend on shapes, not on quantisation; bytes shrink with it, and K-quant mixes hold several types.
  const auto f32 = model::compute_stats(gguf::File::open(fixture("tiny-llama-gqa-F32.gguf")));
  const auto q4km = model::compute_stats(gguf::File::open(fixture("tiny-llama-gqa-Q4_K_M.gguf")));
  EXPECT_DOUBLE_EQ(q4km.layers[0].flops, f32.layers[0].flops);
  EXPECT_LT(q4km.layer_bytes_total() * 4, f32.layer_bytes_total());
  size_t types = 0;
  for (const auto& l : q4km.layers) types = std::max(types, l.bytes_by_type.size());
  EXPECT_GE(types, 3u);  // Q4_K, Q6_K (and F32 norms)
}

namespace {

// A llama-shaped file with 2 blocks, minus or plus what `mutate` changes.
std::vector<uint8_t> small_model(bool with_embd, int block_of_extra_tensor, int block_count = 2) {
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", static_cast<uint32_t>(block_count));
  w.set_u32("llama.embedding_length", 32);
  w.set_u32("llama.attention.head_count", 4);
  if (with_embd) w.add_tensor("token_embd.weight", ggml_type::F32, {32, 10});
  for (int il = 0; il < 2; ++il) w.add_tensor("blk." + std::to_string(il) + ".attn_q.weight", ggml_type::F32, {32, 32});
  if (block_of_extra_tensor >= 0)
    w.add_tensor("blk." + std::to_string(block_of_extra_tensor) + ".ffn_up.weight", ggml_type::F32, {32, 64});
  return w.to_bytes([](size_t, uint64_t, std::span<uint8_t> out) { std::fill(out.begin(), out.end(), 0); });
}

std::string stats_error(const std::vector<uint8_t>& bytes) {
  try {
    model::compute_stats(gguf::File::parse(bytes, "bad.gguf"));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ModelStats, HostileFilesGetClearErrors) {
  const auto ok = small_model(true, 1);
  const auto s = model::compute_stats(gguf::File::parse(ok, "ok.gguf"));
  EXPECT_EQ(s.n_layer, 2);
  EXPECT_EQ(s.n_head_kv, 4) << "head_count_kv defaults to head_count";
  EXPECT_TRUE(s.tied_output);

  auto msg = stats_error(small_model(true, 7));
  EXPECT_NE(msg.find("bad.gguf"), std::string::npos) << msg;
  EXPECT_NE(msg.find("block 7"), std::string::npos) << msg;
  msg = stats_error(small_model(false, -1));
  EXPECT_NE(msg.find("token_embd.weight"), std::string::npos) << msg;
  msg = stats_error(small_model(true, -1, 3));
  EXPECT_NE(msg.find("block 2 has no tensors"), std::string::npos) << msg;
  msg = stats_error(small_model(true, -1, 0));
  EXPECT_NE(msg.find("block_count"), std::string::npos) << msg;
}

TEST(ModelStats, SyntheticShapes) {
  const auto m = scheduler::synthetic_model_stats(scheduler::llama3_70b_shape());
  EXPECT_EQ(m.n_layer, 80);
  EXPECT_EQ(m.hidden_bytes_per_token, 32768u);  // 32 KiB per hop, as DESIGN.md says
  EXPECT_NEAR(static_cast<double>(m.weight_bytes), 40e9, 1.5e9);
  EXPECT_EQ(m.kv_bytes_per_token_per_layer, 4096u);
  EXPECT_THROW(scheduler::synthetic_model_stats([] {
                 auto s = scheduler::llama3_8b_shape();
                 s.layer_type = "Q9_X";
                 return s;
               }()),
               Error);
}
