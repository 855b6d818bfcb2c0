#include <gtest/gtest.h>

#include <filesystem>

#include "gguf/gguf.h"
#include "gguf/writer.h"

using namespace prima;
namespace fs = std::filesystem;

TEST(Gguf, ReadsEveryFixture) {
  int n = 0;
  for (const char* dir : {"/models", "/vocab"}) {
    for (const auto& e : fs::directory_iterator(std::string(PRIMA_FIXTURES_DIR) + dir)) {
      if (e.path().extension() != ".gguf") continue;
      const auto f = gguf::File::open(e.path().string());
      EXPECT_GE(f.version(), 2u);
      EXPECT_TRUE(f.has("general.architecture")) << e.path();
      EXPECT_GT(f.array_size("tokenizer.ggml.tokens"), 0u);
      ++n;
    }
  }
  EXPECT_GE(n, 40);
}

TEST(Gguf, Stories260KMetadataAndTensors) {
  const auto f = gguf::File::open(std::string(PRIMA_FIXTURES_DIR) + "/models/stories260K-F32.gguf");
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_u32("llama.block_count"), 5u);
  EXPECT_EQ(f.get_u32("llama.embedding_length"), 64u);
  EXPECT_EQ(f.get_u32("llama.attention.head_count_kv"), 4u);
  EXPECT_FALSE(f.find_f32("llama.rope.freq_base").has_value());
  EXPECT_NEAR(f.get_f32("llama.attention.layer_norm_rms_epsilon"), 1e-5f, 1e-9f);
  const auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 512u);
  EXPECT_EQ(tokens[1], "<s>");
  const auto& emb = f.tensor("token_embd.weight");
  EXPECT_EQ(emb.type, ggml_type::F32);
  EXPECT_EQ(emb.ne[0], 64);
  EXPECT_EQ(emb.ne[1], 512);
  EXPECT_EQ(emb.size, 64u * 512u * 4u);
  EXPECT_EQ(emb.data, f.bytes().data() + f.data_offset() + emb.offset);
  EXPECT_THROW(f.tensor("nope"), Error);
  EXPECT_THROW(f.get_u32("general.architecture"), Error);  // wrong type
  EXPECT_THROW(f.get_u32("missing.key"), Error);
}

TEST(GgufWriter, RoundTripsAllValueKinds) {
  gguf::Writer w;
  w.set_string("general.architecture", "llama");
  w.set_u32("a.u32", 7);
  w.set_i32("a.i32", -3);
  w.set_f32("a.f32", 1.5f);
  w.set_bool("a.bool", true);
  w.set_u64("a.u64", 1ull << 40);
  w.set_string_array("a.strs", {"x", "", "zz"});
  w.set_f32_array("a.f32s", {1, 2, 3});
  w.set_i32_array("a.i32s", {-1, 5});
  w.add_tensor("t0", ggml_type::F32, {4, 2});
  w.add_tensor("t1", ggml_type::Q8_0, {64});
  const auto bytes = w.to_bytes([](size_t i, uint64_t, std::span<uint8_t> out) {
    for (size_t j = 0; j < out.size(); ++j) out[j] = static_cast<uint8_t>(i * 31 + j);
  });
  const auto f = gguf::File::parse(bytes, "mem");
  EXPECT_EQ(f.get_u32("a.u32"), 7u);
  EXPECT_EQ(f.get_i64("a.i32"), -3);
  EXPECT_THROW(f.get_u32("a.i32"), Error);  // negative
  EXPECT_EQ(f.get_f32("a.f32"), 1.5f);
  EXPECT_TRUE(f.get_bool("a.bool"));
  EXPECT_EQ(f.get_u64("a.u64"), 1ull << 40);
  EXPECT_EQ(f.get_string_array("a.strs")[2], "zz");
  EXPECT_EQ(f.get_f32_array("a.f32s")[1], 2.0f);
  EXPECT_EQ(f.get_int_array("a.i32s")[0], -1);
  ASSERT_EQ(f.tensors().size(), 2u);
  EXPECT_EQ(f.tensor("t1").size, 34u * 2);
  EXPECT_EQ(f.tensor("t1").data[0], 31);
  EXPECT_EQ(f.tensor("t1").offset % 32, 0u);
}
