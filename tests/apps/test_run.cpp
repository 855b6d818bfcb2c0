// prima run: greedy continuation of the reference prompt equals llama.cpp's, and bad input gets clear errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "gguf/gguf.h"
#include "run_cli.h"
#include "tokenizer/tokenizer.h"

using namespace prima;

namespace {

const std::string kFixtures = PRIMA_FIXTURES_DIR;

struct Greedy {
  std::string prompt;  // the reference tokens (after BOS) as text
  std::string text;    // greedy_text
  size_t n_tokens;     // continuation length
};

Greedy reference(const std::string& model) {
  std::ifstream js(kFixtures + "/reference/" + model + ".batch.json");
  const auto j = nlohmann::json::parse(js);
  const auto tokens = j.at("tokens").get<std::vector<int32_t>>();
  const auto f = gguf::File::open(kFixtures + "/models/" + model + ".gguf");
  const auto tok = tokenizer::Tokenizer::from_gguf(f);
  Greedy g;
  // The prompt's text: the ids after BOS (decode drops the space SPM puts before the first word).
  g.prompt = tok->decode(std::span<const int32_t>(tokens).subspan(1));
  EXPECT_EQ(tok->encode(g.prompt, true, false), tokens) << "the prompt text must tokenize back to the reference ids";
  g.text = j.at("greedy_text").get<std::string>();
  g.n_tokens = j.at("greedy_continuation").size();
  return g;
}

class GreedyText : public ::testing::TestWithParam<std::string> {};

TEST_P(GreedyText, MatchesLlamaCpp) {
  const auto g = reference(GetParam());
  const auto r = test::run_prima({"run", "-m", kFixtures + "/models/" + GetParam() + ".gguf", "-p", g.prompt, "-n",
                                  std::to_string(g.n_tokens), "--temp", "0", "--no-display-prompt", "--ignore-eos",
                                  "-t", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, g.text + "\n");
  EXPECT_NE(r.err.find("generated " + std::to_string(g.n_tokens) + " tokens"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tok/s"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Stories, GreedyText, ::testing::Values("stories260K-F32", "stories260K-F16"));

TEST(RunCli, BadInputIsAClearError) {
  const std::string m = kFixtures + "/models/stories260K-F32.gguf";
  auto r = test::run_prima({"run", "-m", "/nonexistent.gguf", "-p", "x"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("/nonexistent.gguf: cannot open"), std::string::npos) << r.err;
  r = test::run_prima({"run", "-m", m, "-p", "x", "--top-p", "1.5"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("top_p"), std::string::npos) << r.err;
  r = test::run_prima({"run", "-m", m});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no prompt"), std::string::npos) << r.err;
  r = test::run_prima({"run", "-m", m, "-p", "x", "-t", "-3"});
  EXPECT_NE(r.exit_code, 0);
  r = test::run_prima({"run", "-m", m, "-p", "x", "--seed", "-7"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--seed"), std::string::npos) << r.err;
}

TEST(RunCli, ContextLimitIsAClearError) {
  const std::string m = kFixtures + "/models/stories260K-F32.gguf";
  // A prompt longer than the context.
  std::string long_prompt;
  for (int i = 0; i < 80; ++i) long_prompt += "Once upon a time ";
  auto r = test::run_prima({"run", "-m", m, "-p", long_prompt, "-c", "32", "-n", "4"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("does not fit in the context of 32 tokens"), std::string::npos) << r.err;
  // Generation that reaches the end of the context stops cleanly and says so.
  r = test::run_prima({"run", "-m", m, "-p", "Once", "-c", "16", "-n", "100", "--temp", "0", "--ignore-eos"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stop: context"), std::string::npos) << r.err;
}

TEST(RunCli, SeededSamplingIsDeterministic) {
  const std::string m = kFixtures + "/models/stories260K-F32.gguf";
  const std::vector<std::string> args = {"run", "-m", m, "-p", "Once upon a time", "-n", "30", "--temp", "0.9", "--seed", "1234"};
  const auto a = test::run_prima(args), b = test::run_prima(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
}

}  // namespace
