// StreamDecoder: never emits part of a UTF-8 character, always valid UTF-8, nothing lost.
#include <gtest/gtest.h>

#include "common.h"
#include "tokenizer/unicode.h"

namespace prima::tokenizer::test {
namespace {

bool valid_utf8(const std::string& s) { return unicode::sanitize(s) == s; }

TEST(Stream, BpeMultiByteSplitAcrossTokens) {
  const auto& tok = vocab("qwen2");
  const std::string text = "h\xC3\xA9llo \xF0\x9F\xA6\x99 \xE4\xB8\x96\xE7\x95\x8C \xE1\x9E\x80\xE1\x9E\xB6";  // héllo 🦙 世界 កា
  const auto ids = tok.encode(text, false, false);
  std::string out;
  StreamDecoder dec(tok);
  int split = 0;
  for (auto id : ids) {
    const std::string piece = tok.piece(id);
    split += !valid_utf8(piece);
    const std::string chunk = dec.push(id);
    EXPECT_TRUE(valid_utf8(chunk));
    out += chunk;
  }
  EXPECT_GT(split, 0) << "the test text should have a character split across tokens";
  EXPECT_EQ(dec.pending(), 0u);
  out += dec.flush();
  EXPECT_EQ(out, text);
}

TEST(Stream, SpmByteTokensHeldUntilComplete) {
  const auto& tok = load(fixtures() + "/models/stories260K-F32.gguf");
  const auto byte = [&](int b) { return tok.find_token(fmt::format("<0x{:02X}>", b)); };
  StreamDecoder dec(tok);
  EXPECT_EQ(dec.push(byte(0xF0)), "");
  EXPECT_EQ(dec.push(byte(0x9F)), "");
  EXPECT_EQ(dec.push(byte(0xA6)), "");
  EXPECT_EQ(dec.push(byte(0x99)), "\xF0\x9F\xA6\x99");
  EXPECT_EQ(dec.push(byte(0xE4)), "");
  EXPECT_EQ(dec.flush(), "\xEF\xBF\xBD");  // an unfinished character at the end becomes U+FFFD
  EXPECT_EQ(dec.push(byte(0xFF)), "\xEF\xBF\xBD");  // a byte that never starts a character: at once
  EXPECT_EQ(dec.push(byte(0x80)), "\xEF\xBF\xBD");
  EXPECT_EQ(dec.push(byte('a')), "a");
}

TEST(Stream, ControlTokensHiddenUnlessAsked) {
  const auto& tok = vocab("qwen2");
  const token_id im_end = tok.find_token("<|im_end|>");
  ASSERT_NE(im_end, kNoToken);
  EXPECT_TRUE(tok.is_eog(im_end));
  StreamDecoder quiet(tok), loud(tok, /*special=*/true);
  EXPECT_EQ(quiet.push(im_end), "");
  EXPECT_EQ(loud.push(im_end), "<|im_end|>");
}

TEST(Stream, OutOfRangeIdsAreNothing) {
  const auto& tok = vocab("gpt-2");
  StreamDecoder dec(tok);
  EXPECT_EQ(dec.push(-5), "");
  EXPECT_EQ(dec.push(tok.n_tokens()), "");
  EXPECT_EQ(tok.decode(std::vector<token_id>{-1, 1 << 30}), "");
}

}  // namespace
}  // namespace prima::tokenizer::test
