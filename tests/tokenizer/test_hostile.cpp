// Hostile vocabularies (built with gguf::Writer) are rejected at load with a prima::Error naming the
// file and the field; hostile text (arbitrary bytes) never crashes the encoder.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "common.h"
#include "gguf/writer.h"

namespace prima::tokenizer::test {
namespace {

std::vector<uint8_t> bytes_of(const gguf::Writer& w) {
  return w.to_bytes([](size_t, uint64_t, std::span<uint8_t> out) { std::memset(out.data(), 0, out.size()); });
}

// A small valid BPE vocab: bytes a b c, "ab", "abc"; merges "a b", "ab c".
gguf::Writer bpe_writer() {
  gguf::Writer w;
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "gpt-2");
  w.set_string_array("tokenizer.ggml.tokens", {"a", "b", "c", "ab", "abc", "<|endoftext|>"});
  w.set_i32_array("tokenizer.ggml.token_type", {1, 1, 1, 1, 1, 3});
  w.set_string_array("tokenizer.ggml.merges", {"a b", "ab c"});
  w.set_u32("tokenizer.ggml.bos_token_id", 5);
  w.set_u32("tokenizer.ggml.eos_token_id", 5);
  return w;
}

gguf::Writer spm_writer() {
  gguf::Writer w;
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "<0x41>", "\xE2\x96\x81", "\xE2\x96\x81" "A"});
  w.set_f32_array("tokenizer.ggml.scores", {0, 0, 0, 0, -1, -2});
  w.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 6, 1, 1});
  return w;
}

// Loads; returns "" on success or the error message. Any exception other than prima::Error fails.
std::string load_error(const gguf::Writer& w) {
  const auto b = bytes_of(w);
  try {
    const auto f = gguf::File::parse(b, "bad.gguf");
    (void)Tokenizer::from_gguf(f);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

void expect_error(const gguf::Writer& w, const std::string& needle) {
  const std::string msg = load_error(w);
  ASSERT_NE(msg, "") << "expected an error containing '" << needle << "'";
  EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  EXPECT_NE(msg.find("bad.gguf"), std::string::npos) << "the message must name the file: " << msg;
}

TEST(Hostile, TheValidSmallVocabsLoadAndWork) {
  ASSERT_EQ(load_error(bpe_writer()), "");
  ASSERT_EQ(load_error(spm_writer()), "");
  const auto b = bytes_of(bpe_writer());
  const auto f = gguf::File::parse(b, "ok.gguf");
  const auto tok = Tokenizer::from_gguf(f);
  EXPECT_EQ(tok->encode("abc", false, false), std::vector<token_id>{4});
  EXPECT_EQ(tok->encode("abcab", false, false), (std::vector<token_id>{4, 3}));
  // Bytes without a token are dropped (llama.cpp: single-byte fallback only where such tokens exist).
  EXPECT_EQ(tok->encode("a\xF0\x9F\xA6\x99" "b", false, false), (std::vector<token_id>{0, 1}));

  // SPM without a byte token for a character: the unknown token.
  const auto sb = bytes_of(spm_writer());
  const auto sf = gguf::File::parse(sb, "spm.gguf");
  const auto spm = Tokenizer::from_gguf(sf);
  EXPECT_EQ(spm->encode("A", true, false), (std::vector<token_id>{1, 5}));
  EXPECT_EQ(spm->encode("Ab", false, false), (std::vector<token_id>{5, 0}));
  EXPECT_EQ(spm->encode(" A", false, false), (std::vector<token_id>{4, 5}));
}

TEST(Hostile, MissingOrUnknownModel) {
  auto w = bpe_writer();
  w.set_string("tokenizer.ggml.model", "bert");
  expect_error(w, "tokenizer.ggml.model");
  gguf::Writer none;
  none.set_string("general.architecture", "llama");
  expect_error(none, "tokenizer.ggml.model");
}

TEST(Hostile, TokensMissingEmptyWrongTypeOrDuplicated) {
  gguf::Writer w;
  w.set_string("tokenizer.ggml.model", "llama");
  expect_error(w, "tokenizer.ggml.tokens");
  w.set_string_array("tokenizer.ggml.tokens", {});
  expect_error(w, "tokenizer.ggml.tokens");
  w.set_i32_array("tokenizer.ggml.tokens", {1, 2, 3});
  expect_error(w, "tokenizer.ggml.tokens");
  auto d = spm_writer();
  d.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "<0x41>", "x", "x"});
  expect_error(d, "duplicates");
}

TEST(Hostile, ArraysThatDisagreeAndBadTypes) {
  auto w = spm_writer();
  w.set_f32_array("tokenizer.ggml.scores", {0, 0});
  expect_error(w, "tokenizer.ggml.scores");
  w = spm_writer();
  w.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 6, 1});
  expect_error(w, "tokenizer.ggml.token_type");
  w = spm_writer();
  w.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 6, 1, 42});
  expect_error(w, "not a token type");
  w = spm_writer();
  w.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 6, 6, 1});  // "▁" typed BYTE
  expect_error(w, "BYTE");
}

TEST(Hostile, SpecialIdsOutOfRange) {
  auto w = spm_writer();
  w.set_u32("tokenizer.ggml.bos_token_id", 6);
  expect_error(w, "tokenizer.ggml.bos_token_id");
  w = spm_writer();
  w.set_i32("tokenizer.ggml.eos_token_id", -7);
  expect_error(w, "tokenizer.ggml.eos_token_id");
  w = spm_writer();
  w.set_u32("tokenizer.ggml.padding_token_id", 1000);  // padding: ignored with a warning, as llama.cpp does
  EXPECT_EQ(load_error(w), "");
  w = spm_writer();
  w.set_u32("tokenizer.ggml.bos_token_id", 0xFFFFFFFFu);  // "none"
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  expect_error(w, "add_bos_token");
  w = spm_writer();
  w.set_string("tokenizer.ggml.bos_token_id", "1");
  expect_error(w, "tokenizer.ggml.bos_token_id");
}

TEST(Hostile, BadMerges) {
  auto w = bpe_writer();
  w.set_string_array("tokenizer.ggml.merges", {"a b", "ab q"});
  expect_error(w, "tokenizer.ggml.merges[1]");
  w = bpe_writer();
  w.set_string_array("tokenizer.ggml.merges", {"ab"});
  expect_error(w, "tokenizer.ggml.merges[0]");
  w = bpe_writer();
  w.set_string_array("tokenizer.ggml.merges", {""});
  expect_error(w, "tokenizer.ggml.merges[0]");
  gguf::Writer nomerges;
  nomerges.set_string("tokenizer.ggml.model", "gpt2");
  nomerges.set_string_array("tokenizer.ggml.tokens", {"a"});
  expect_error(nomerges, "tokenizer.ggml.merges");
}

TEST(Hostile, UnknownPreTokenizerNamesTheKnownOnes) {
  auto w = bpe_writer();
  w.set_string("tokenizer.ggml.pre", "no-such-pre");
  const std::string msg = load_error(w);
  EXPECT_NE(msg.find("no-such-pre"), std::string::npos) << msg;
  EXPECT_NE(msg.find("llama-bpe"), std::string::npos) << msg;
  EXPECT_NE(msg.find("qwen2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("bad.gguf"), std::string::npos) << msg;
}

TEST(Hostile, EmptyTokenTextsGetPlaceholders) {
  auto w = spm_writer();
  w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "<0x41>", "", ""});
  const auto b = bytes_of(w);
  const auto f = gguf::File::parse(b, "ok.gguf");
  const auto tok = Tokenizer::from_gguf(f);
  EXPECT_EQ(tok->token_text(4), "[EMPTY_4]");
  EXPECT_EQ(tok->token_text(5), "[EMPTY_5]");
}

// Arbitrary bytes through every kind of tokenizer: no crash, and the BPE vocabs see invalid UTF-8 as
// U+FFFD per bad byte, as llama.cpp does.
TEST(Hostile, ArbitraryBytesNeverCrash) {
  std::mt19937 rng(1234);
  for (const char* name : {"llama-spm", "qwen2", "llama-bpe", "deepseek-llm", "falcon"}) {
    const auto& tok = vocab(name);
    for (int i = 0; i < 150; ++i) {
      std::string s(rng() % 40, '\0');
      for (auto& c : s) c = static_cast<char>(rng() % 3 == 0 ? "a \n\xE2\x96\x81\xC3\xF0<|>"[rng() % 12] : rng());
      const auto ids = tok.encode(s, true, i % 2 == 0);
      for (auto id : ids) ASSERT_TRUE(id >= 0 && id < tok.n_tokens());
      (void)tok.decode(ids);
    }
  }
  const auto& q = vocab("qwen2");
  EXPECT_EQ(q.encode("a\xFF\xFE" "b", false, false), q.encode("a\xEF\xBF\xBD\xEF\xBF\xBD" "b", false, false));
  EXPECT_EQ(q.encode("\xF0\x9F", false, false), q.encode("\xEF\xBF\xBD\xEF\xBF\xBD", false, false));
}

TEST(Hostile, LongInputs) {
  const auto& tok = vocab("llama-bpe");
  const std::string spaces(200000, ' ');
  EXPECT_FALSE(tok.encode(spaces + "x", false, false).empty());
  const std::string word(100000, 'a');
  EXPECT_EQ(tok.decode(tok.encode(word, false, false)), word);
}

}  // namespace
}  // namespace prima::tokenizer::test

namespace prima::tokenizer::test {
namespace {

// Tokens recognised by their text (llama.cpp's inference): end-of-turn and FIM markers become CONTROL; the
// end-of-turn ones and FIM pad/repo/file-separator end generation.
TEST(Hostile, SpecialTokensInferredFromText) {
  gguf::Writer w;
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "qwen2");
  w.set_string_array("tokenizer.ggml.tokens", {"a", "b", "<|im_end|>", "<|fim_prefix|>", "<|fim_pad|>", "<|repo_name|>",
                                               "<|file_sep|>", "<|endoftext|>"});
  w.set_i32_array("tokenizer.ggml.token_type", {1, 1, 1, 1, 1, 1, 1, 1});  // all NORMAL, as broken converters write
  w.set_string_array("tokenizer.ggml.merges", {"a b"});
  w.set_u32("tokenizer.ggml.eos_token_id", 7);
  const auto b = bytes_of(w);
  const auto f = gguf::File::parse(b, "ok.gguf");
  const auto tok = Tokenizer::from_gguf(f);
  EXPECT_EQ(tok->eot(), 2);
  for (token_id id : {2, 4, 5, 6, 7}) EXPECT_TRUE(tok->is_eog(id)) << id;
  EXPECT_FALSE(tok->is_eog(3));
  for (token_id id : {2, 3, 4, 5, 6, 7}) EXPECT_TRUE(tok->is_control(id)) << id;
  EXPECT_EQ(tok->piece(2), "");  // hidden now, like any control token
  EXPECT_EQ(tok->encode("a<|im_end|>", false, true), (std::vector<token_id>{0, 2}));
}

}  // namespace
}  // namespace prima::tokenizer::test
