#include <gtest/gtest.h>

#include <cstring>

#include "gguf/writer.h"
#include "model/model.h"

using namespace prima;

TEST(HParams, Stories260KDefaults) {
  auto m = model::Model::open(std::string(PRIMA_FIXTURES_DIR) + "/models/stories260K-F32.gguf");
  const auto& hp = m->hparams();
  EXPECT_EQ(hp.arch.arch, model::Arch::llama);
  EXPECT_EQ(hp.n_layer, 5);
  EXPECT_EQ(hp.n_embd, 64);
  EXPECT_EQ(hp.n_head, 8);
  EXPECT_EQ(hp.n_head_kv, 4);
  EXPECT_EQ(hp.n_ff, 172);
  EXPECT_EQ(hp.n_vocab, 512);
  EXPECT_EQ(hp.n_embd_head, 8);
  EXPECT_EQ(hp.rope_freq_base, 10000.0f);  // key absent: llama.cpp's default
  EXPECT_FALSE(m->head().tied_output);
}

TEST(HParams, Qwen2TiedOutputAndBiases) {
  auto m = model::Model::open(std::string(PRIMA_FIXTURES_DIR) + "/models/tiny-qwen2-F32.gguf");
  const auto& hp = m->hparams();
  EXPECT_EQ(hp.arch.arch, model::Arch::qwen2);
  EXPECT_EQ(hp.arch.rope_type, model::RopeType::neox);
  EXPECT_EQ(hp.rope_freq_base, 1e6f);
  EXPECT_TRUE(m->head().tied_output);
  EXPECT_TRUE(static_cast<bool>(m->layer(0).bq));
}

namespace {
// A copy of a fixture with one metadata key changed or one tensor renamed, written to a temp file.
std::string write_variant(const std::function<void(gguf::Writer&)>& edit, const std::string& drop_tensor = "") {
  const auto src = gguf::File::open(std::string(PRIMA_FIXTURES_DIR) + "/models/stories260K-F32.gguf");
  gguf::Writer w;
  for (const auto& [k, v] : src.kv()) {
    if (v.type == gguf::ValueType::string) w.set_string(k, std::string(v.s));
    else if (v.type == gguf::ValueType::u32) w.set_u32(k, static_cast<uint32_t>(v.u));
    else if (v.type == gguf::ValueType::f32) w.set_f32(k, static_cast<float>(v.f));
    else if (v.type == gguf::ValueType::i32) w.set_i32(k, static_cast<int32_t>(v.i));
    else if (v.type == gguf::ValueType::array && v.elem == gguf::ValueType::string) {
      std::vector<std::string> s(v.strings.begin(), v.strings.end());
      w.set_string_array(k, s);
    } else if (v.type == gguf::ValueType::array && v.elem == gguf::ValueType::i32) {
      const auto ints = src.get_int_array(k);
      w.set_i32_array(k, std::vector<int32_t>(ints.begin(), ints.end()));
    } else if (v.type == gguf::ValueType::array) {
      w.set_f32_array(k, src.get_f32_array(k));
    }
  }
  edit(w);
  std::vector<const gguf::TensorInfo*> kept;
  for (const auto& t : src.tensors()) {
    if (t.name == drop_tensor) continue;
    kept.push_back(&t);
    w.add_tensor(t.name, t.type, std::vector<int64_t>(t.ne, t.ne + t.n_dims));
  }
  const std::string path = ::testing::TempDir() + "/variant.gguf";
  w.write(path, [&](size_t i, uint64_t off, std::span<uint8_t> out) { std::memcpy(out.data(), kept[i]->data + off, out.size()); });
  return path;
}

std::string open_error(const std::string& path) {
  try {
    (void)model::Model::open(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(HParams, ClearErrorsForBadModels) {
  EXPECT_NE(open_error(write_variant([](gguf::Writer& w) { w.set_string("general.architecture", "mamba"); }))
                .find("architecture 'mamba' is not supported"),
            std::string::npos);
  EXPECT_NE(open_error(write_variant([](gguf::Writer& w) { w.set_u32("llama.attention.head_count_kv", 3); }))
                .find("not a multiple of head_count_kv"),
            std::string::npos);
  EXPECT_NE(open_error(write_variant([](gguf::Writer&) {}, "blk.2.ffn_up.weight")).find("missing tensor 'blk.2.ffn_up.weight'"),
            std::string::npos);
  EXPECT_NE(open_error(write_variant([](gguf::Writer& w) { w.set_u32("llama.feed_forward_length", 100); }))
                .find("has shape"),
            std::string::npos);
  EXPECT_NE(open_error(write_variant([](gguf::Writer& w) { w.set_f32("llama.attention.layer_norm_rms_epsilon", -1.0f); }))
                .find("layer_norm_rms_epsilon"),
            std::string::npos);
  // The variant writer itself works: an unchanged copy opens.
  EXPECT_EQ(open_error(write_variant([](gguf::Writer&) {})), "");
}
