#include <gtest/gtest.h>

#include <filesystem>

#include "run_cli.h"

using namespace prima;

TEST(LogitsCli, WritesTokensByVocabFloats) {
  const std::string out = ::testing::TempDir() + "/logits.f32";
  const auto r = test::run_prima({"logits", "-m", std::string(PRIMA_FIXTURES_DIR) + "/models/stories260K-F32.gguf",
                                  "--tokens", "1 403 407 261", "--mode", "seq", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::filesystem::file_size(out), 4u * 512u * 4u);
}

TEST(LogitsCli, RejectsBadTokens) {
  const std::string m = std::string(PRIMA_FIXTURES_DIR) + "/models/stories260K-F32.gguf";
  auto r = test::run_prima({"logits", "-m", m, "--tokens", "1 abc", "-o", "/dev/null"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("'abc' is not a token id"), std::string::npos) << r.err;
  r = test::run_prima({"logits", "-m", m, "--tokens", "1 99999", "-o", "/dev/null"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("outside the vocabulary"), std::string::npos) << r.err;
}
