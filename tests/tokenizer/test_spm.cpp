// SPM on the stories260K model vocab (512 tokens): defaults as llama.cpp applies them, the reference
// prompt's ids, the reference greedy continuation decoded, byte fallback.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common.h"

namespace prima::tokenizer::test {
namespace {

const Tokenizer& stories() { return load(fixtures() + "/models/stories260K-F32.gguf"); }

nlohmann::json reference() { return nlohmann::json::parse(read_bytes(fixtures() + "/reference/stories260K-F32.batch.json")); }

TEST(Spm, StoriesDefaults) {
  const auto& tok = stories();
  EXPECT_EQ(tok.type(), VocabType::spm);
  EXPECT_EQ(tok.n_tokens(), 512);
  EXPECT_EQ(tok.bos(), 1);
  EXPECT_EQ(tok.eos(), 2);
  EXPECT_EQ(tok.unk(), 0);
  EXPECT_EQ(tok.pad(), kNoToken);  // 0xFFFFFFFF in the file means none
  EXPECT_TRUE(tok.add_bos());      // no add_bos_token key: SPM adds BOS
  EXPECT_FALSE(tok.add_eos());
  EXPECT_TRUE(tok.add_space_prefix());
  EXPECT_TRUE(tok.is_eog(2));
  EXPECT_FALSE(tok.is_eog(1));
  EXPECT_EQ(tok.token_text(1), "<s>");
  EXPECT_EQ(tok.piece(1), "");            // control: hidden unless asked
  EXPECT_EQ(tok.piece(1, true), "<s>");
  EXPECT_EQ(tok.piece(3 + 0x0A), "\n");   // <0x0A>
}

TEST(Spm, ReferencePromptRoundTrips) {
  const auto& tok = stories();
  const auto ref = reference();
  const std::vector<token_id> tokens = ref["tokens"].get<std::vector<token_id>>();
  ASSERT_EQ(tokens.front(), 1);
  const std::string text = tok.decode(std::span(tokens).subspan(1));
  EXPECT_FALSE(text.empty());
  EXPECT_NE(text.front(), ' ');  // the space prefix is removed from the first piece
  EXPECT_EQ(tok.encode(text, /*add_special=*/true, false), tokens) << text;
  EXPECT_EQ(tok.decode(tokens, /*skip_special=*/true), cat(" ", text));  // llama.cpp keeps the space after a removed BOS
  EXPECT_EQ(tok.decode(tokens), cat("<s> ", text));
}

TEST(Spm, ReferenceContinuationDecodes) {
  const auto& tok = stories();
  const auto ref = reference();
  const auto cont = ref["greedy_continuation"].get<std::vector<token_id>>();
  const std::string want = ref["greedy_text"].get<std::string>();
  std::string streamed;
  StreamDecoder dec(tok);
  for (auto id : cont) streamed += dec.push(id);
  streamed += dec.flush();
  EXPECT_EQ(streamed, want);
  std::string pieces;
  for (auto id : cont) pieces += tok.piece(id);
  EXPECT_EQ(pieces, want);
  EXPECT_EQ(cat(" ", tok.decode(cont)), want);  // decode() drops the first piece's leading space
}

TEST(Spm, ByteFallbackAndBack) {
  const auto& tok = stories();
  const std::string text = "caf\xC3\xA9 \xF0\x9F\xA6\x99!";  // "café 🦙!"
  const auto ids = tok.encode(text, false, false);
  int bytes = 0;
  for (auto id : ids) bytes += tok.token_type(id) == TokenType::byte;
  EXPECT_GE(bytes, 4);  // the llama is not in a 512-token vocab: 4 byte tokens
  EXPECT_EQ(tok.decode(ids), text);
}

TEST(Spm, EmptyAndSpaces) {
  const auto& tok = stories();
  EXPECT_TRUE(tok.encode("", false, false).empty());
  EXPECT_EQ(tok.encode("", true, false), std::vector<token_id>{1});
  for (std::string s : {" ", "  ", "\n", " \n "}) EXPECT_EQ(tok.decode(tok.encode(s, false, false)), s) << "'" << s << "'";
}

TEST(Spm, SpecialTokensOnlyWhenAsked) {
  const auto& tok = stories();
  const auto plain = tok.encode("<s>Hello", false, false);
  EXPECT_NE(plain.front(), 1);
  const auto special = tok.encode("<s>Hello", false, true);
  EXPECT_EQ(special.front(), 1);
  // After a special token the text gets the SPM space prefix again, as in llama.cpp.
  std::vector<token_id> want = {1};
  for (auto id : tok.encode("Hello", false, false)) want.push_back(id);
  EXPECT_EQ(special, want);
}

}  // namespace
}  // namespace prima::tokenizer::test
