// `prima tokenize` end to end (the real binary).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common.h"

namespace prima::tokenizer::test {
namespace {

struct Run {
  int code;
  std::string out;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

Run run(const std::string& args) {
  const std::string cmd = std::string(PRIMA_BINARY) + " tokenize " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  EXPECT_NE(p, nullptr);
  Run r{-1, ""};
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

const std::string kStories = fixtures() + "/models/stories260K-F32.gguf";
const std::string kQwen = fixtures() + "/vocab/ggml-vocab-qwen2.gguf";

TEST(Cli, IdsWithoutAndWithBos) {
  const auto& tok = load(kStories);
  const std::string text = "Once upon a time, Lily saw a cat.";
  const auto r = run("-m " + quote(kStories) + " -p " + quote(text) + " --ids");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, join_ids(tok.encode(text, false, false)) + "\n");
  const auto b = run("-m " + quote(kStories) + " -p " + quote(text) + " --ids --bos");
  ASSERT_EQ(b.code, 0);
  EXPECT_EQ(b.out, cat("1 ", r.out));
}

TEST(Cli, PiecesListing) {
  const auto r = run("-m " + quote(kQwen) + " -p " + quote("Hello world\n"));
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "  9707 -> 'Hello'\n  1879 -> ' world'\n   198 -> '\\n'\n");
}

TEST(Cli, ParseSpecial) {
  const auto plain = run("-m " + quote(kQwen) + " -p " + quote("<|im_start|>user") + " --ids");
  const auto special = run("-m " + quote(kQwen) + " -p " + quote("<|im_start|>user") + " --ids --parse-special");
  ASSERT_EQ(plain.code, 0);
  ASSERT_EQ(special.code, 0);
  EXPECT_EQ(special.out, "151644 872\n");
  EXPECT_NE(plain.out.substr(0, 7), "151644 ");
}

TEST(Cli, FileGivesExactBytes) {
  const auto& tok = vocab("qwen2");
  const std::string text = "line one\r\n\tline two \xFF\n\n";
  const auto path = std::filesystem::temp_directory_path() / "prima_tokenize_test.txt";
  {
    std::ofstream f(path, std::ios::binary);
    f << text;
  }
  const auto r = run("-m " + quote(kQwen) + " --file " + quote(path.string()) + " --ids");
  std::filesystem::remove(path);
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(r.out, join_ids(tok.encode(text, false, false)) + "\n");
}

TEST(Cli, Errors) {
  EXPECT_NE(run("-m /nonexistent.gguf -p hi").code, 0);
  EXPECT_NE(run("-m " + quote(kQwen)).code, 0);                                   // no text
  EXPECT_NE(run("-m " + quote(kQwen) + " --file /nonexistent.txt").code, 0);      // unreadable file
  EXPECT_NE(run("-m " + quote(kQwen) + " -p hi --file /etc/hostname").code, 0);  // both
}

}  // namespace
}  // namespace prima::tokenizer::test
