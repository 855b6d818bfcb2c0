// Pre-tokenizers: every accepted name compiles its regexes; a few splits spelled out.
#include <gtest/gtest.h>

#include "common.h"
#include "tokenizer/pretokenizer.h"

namespace prima::tokenizer::test {
namespace {

std::vector<std::string> split(std::string_view pre, std::string_view text) {
  std::vector<std::string> words;
  PreTokenizer::create(pre)->split(text, words);
  return words;
}

TEST(PreTokenizer, EveryKnownNameCompilesAndSplits) {
  for (auto name : PreTokenizer::known_names()) {
    const auto p = PreTokenizer::create(name);
    std::vector<std::string> words;
    p->split("Hello, world! 12345 \xE4\xB8\x96\xE7\x95\x8C\n\n  x", words);
    std::string joined;
    for (const auto& w : words) joined += w;
    EXPECT_EQ(joined, "Hello, world! 12345 \xE4\xB8\x96\xE7\x95\x8C\n\n  x") << name;  // nothing lost
  }
  EXPECT_THROW((void)PreTokenizer::create("nope"), Error);
}

TEST(PreTokenizer, Splits) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split("gpt-2", "Hello world's  end"), (V{"Hello", " world", "'s", " ", " end"}));
  EXPECT_EQ(split("llama-bpe", "12345 I'LL"), (V{"123", "45", " I", "'LL"}));
  EXPECT_EQ(split("qwen2", "123"), (V{"1", "2", "3"}));
  EXPECT_EQ(split("llama-bpe", "a  \n\n b"), (V{"a", "  \n\n", " b"}));
  // Non-ASCII white space is white space (U+3000), invalid bytes are U+FFFD.
  EXPECT_EQ(split("gpt-2", "a\xE3\x80\x80" "b"), (V{"a", "\xE3\x80\x80", "b"}));
  EXPECT_EQ(split("gpt-2", "a\xFF"), (V{"a", "\xEF\xBF\xBD"}));
}

}  // namespace
}  // namespace prima::tokenizer::test
