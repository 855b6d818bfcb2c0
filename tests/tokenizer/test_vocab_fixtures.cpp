// Every vocab fixture: every .inp case tokenizes to exactly the .out ids (llama.cpp's expectations: no
// BOS, special-token parsing off), and decoding gives the input back where the vocab can represent it.
#include <gtest/gtest.h>

#include <sstream>

#include "common.h"

namespace prima::tokenizer::test {
namespace {

struct Case {
  std::string text;
  std::vector<token_id> ids;
};

std::vector<Case> read_cases(const std::string& name) {
  const std::string base = fixtures() + "/vocab/ggml-vocab-" + name + ".gguf";
  const std::string inp = read_bytes(base + ".inp");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  size_t pos = 0;
  while (pos < inp.size()) {
    const size_t e = inp.find(sep, pos);
    if (e == std::string::npos) {
      texts.push_back(inp.substr(pos));
      break;
    }
    texts.push_back(inp.substr(pos, e - pos));
    pos = e + sep.size();
  }
  std::ifstream out(base + ".out");
  std::vector<Case> cases;
  std::string line;
  for (size_t i = 0; i < texts.size() && std::getline(out, line); ++i) {
    Case c{texts[i], {}};
    std::istringstream ls(line);
    for (token_id id; ls >> id;) c.ids.push_back(id);
    cases.push_back(std::move(c));
  }
  EXPECT_EQ(cases.size(), texts.size()) << name << ": .inp and .out disagree in length";
  return cases;
}

class VocabFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(VocabFixture, EveryCaseExact) {
  const auto& tok = vocab(GetParam());
  const auto cases = read_cases(GetParam());
  ASSERT_GT(cases.size(), 40u);
  int passed = 0;
  for (const auto& c : cases) {
    const auto ids = tok.encode(c.text, /*add_special=*/false, /*parse_special=*/false);
    EXPECT_EQ(join_ids(ids), join_ids(c.ids)) << GetParam() << ": text '" << c.text << "'";
    passed += ids == c.ids;
  }
  std::printf("%s: %d/%zu cases exact\n", GetParam().c_str(), passed, cases.size());
}

TEST_P(VocabFixture, DecodeGivesTheInputBack) {
  const auto& tok = vocab(GetParam());
  for (const auto& c : read_cases(GetParam())) {
    const std::string back = tok.decode(c.ids);
    if (back == c.text) continue;
    // Where the vocab cannot represent the text, decoding differs; the known cases are an SPM text
    // starting with a space (the first piece's leading space is dropped, as llama.cpp does) and
    // characters a BPE vocab drops for lack of byte tokens.
    if (tok.type() == VocabType::spm && !c.text.empty() && c.text[0] == ' ') {
      EXPECT_EQ(" " + back, c.text);
      continue;
    }
    ADD_FAILURE() << GetParam() << ": '" << c.text << "' decodes to '" << back << "'";
  }
}

TEST_P(VocabFixture, AddSpecialAddsBosAsTheModelWants) {
  const auto& tok = vocab(GetParam());
  const auto plain = tok.encode("Hello world", false, false);
  const auto with = tok.encode("Hello world", true, false);
  if (tok.add_bos()) {
    ASSERT_EQ(with.size(), plain.size() + 1 + tok.add_eos());
    EXPECT_EQ(with.front(), tok.bos());
  } else {
    EXPECT_EQ(with.size(), plain.size() + tok.add_eos());
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabs, VocabFixture,
                         ::testing::Values("llama-spm", "phi-3", "llama-bpe", "qwen2", "deepseek-llm", "deepseek-coder",
                                           "gpt-2", "falcon", "mpt", "refact", "starcoder"),
                         [](const auto& p) {
                           std::string n = p.param;
                           for (auto& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace prima::tokenizer::test

namespace prima::tokenizer::test {
namespace {

// End-of-generation tokens, partly inferred from token texts as llama.cpp does.
TEST(VocabSpecials, EndOfGeneration) {
  const auto& q = vocab("qwen2");
  EXPECT_EQ(q.eos(), q.find_token("<|im_end|>"));
  EXPECT_EQ(q.eot(), q.find_token("<|im_end|>"));
  for (const char* t : {"<|im_end|>", "<|endoftext|>"}) EXPECT_TRUE(q.is_eog(q.find_token(t))) << t;
  EXPECT_EQ(q.eog_ids().size(), 2u);  // Qwen2 (not 2.5): no FIM tokens in this vocab
  EXPECT_FALSE(q.is_eog(q.find_token("<|im_start|>")));
  EXPECT_FALSE(q.add_bos());

  const auto& l = vocab("llama-bpe");
  EXPECT_EQ(l.bos(), 128000);
  EXPECT_TRUE(l.add_bos());  // Llama-3 pre-tokenizer default
  for (const char* t : {"<|eot_id|>", "<|end_of_text|>"}) EXPECT_TRUE(l.is_eog(l.find_token(t))) << t;
  EXPECT_EQ(l.eot(), l.find_token("<|eot_id|>"));
  EXPECT_EQ(l.eom(), kNoToken);  // Llama 3.0: no <|eom_id|> (3.1 has it)
  EXPECT_FALSE(l.is_eog(l.find_token("<|start_header_id|>")));
  EXPECT_TRUE(l.is_control(l.find_token("<|start_header_id|>")));
}

}  // namespace
}  // namespace prima::tokenizer::test
