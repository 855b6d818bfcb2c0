// `prima chat` (interactive, stdin may be a pipe) and `prima run --chat` (one user message through the template).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>

#include "run_cli.h"

using namespace prima::test;

namespace {

const std::string kModel = std::string(PRIMA_FIXTURES_DIR) + "/models/stories260K-F32.gguf";

// Runs prima with `input` on stdin (from a file: exactly a pipe-less, non-terminal stdin).
CliResult run_with_input(const std::vector<std::string>& args, const std::string& input) {
  static int n = 0;
  const std::string in = ::testing::TempDir() + "/prima_stdin_" + std::to_string(::getpid()) + "_" + std::to_string(n++);
  std::ofstream(in, std::ios::binary) << input;
  std::vector<std::string> argv = {"sh", "-c", "cat " + shell_quote(in) + " | \"$0\" \"$@\"", PRIMA_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  CliResult r = run_command(argv);
  std::remove(in.c_str());
  return r;
}

// "prima: turn N | prompt P tokens (R reused, E evaluated, ...": {P, R} per turn.
std::vector<std::pair<int, int>> turns(const std::string& err) {
  std::vector<std::pair<int, int>> out;
  const std::regex re(R"(turn \d+ \| prompt (\d+) tokens \((\d+) reused)");
  for (std::sregex_iterator it(err.begin(), err.end(), re), end; it != end; ++it)
    out.emplace_back(std::stoi((*it)[1]), std::stoi((*it)[2]));
  return out;
}

const std::vector<std::string> kChat = {"chat", "-m", kModel, "--chat-template", "chatml", "--temp", "0", "-n", "20",
                                        "-c", "512", "-t", "2"};

}  // namespace

TEST(ChatCli, KeepsTheConversationAndItsCacheAcrossTurns) {
  const auto r = run_with_input(kChat, "Tell me about a cat.\nAnd a dog?\nThanks!\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto t = turns(r.err);
  ASSERT_EQ(t.size(), 3u) << r.err;
  EXPECT_EQ(t[0].second, 0);
  for (size_t i = 1; i < t.size(); ++i) {
    EXPECT_GT(t[i].first, t[i - 1].first);  // the conversation grows
    EXPECT_GT(t[i].second, t[i - 1].first);  // and all of the previous prompt (and most of its answer) is reused
  }
  EXPECT_GE(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;  // three answers, each ended by a newline
}

TEST(ChatCli, FirstAnswerEqualsRunChat) {
  const auto chat = run_with_input(kChat, "Tell me about a cat.\n/exit\nnever read\n");
  ASSERT_EQ(chat.exit_code, 0) << chat.err;
  EXPECT_EQ(turns(chat.err).size(), 1u);  // /exit ended it
  const auto run = run_prima({"run", "-m", kModel, "--chat", "--chat-template", "chatml", "--temp", "0", "-n", "20", "-c",
                              "512", "-t", "2", "-p", "Tell me about a cat."});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_FALSE(run.out.empty());
  EXPECT_EQ(chat.out, run.out);  // one answer line each
}

TEST(ChatCli, RunChatUsesTheSystemPrompt) {
  const std::vector<std::string> base = {"run", "-m", kModel, "--chat", "--chat-template", "chatml", "--temp", "0",
                                         "-n", "12", "-c", "512", "-t", "2", "-p", "Hello."};
  const auto plain = run_prima(base);
  auto with = base;
  with.insert(with.end(), {"--system-prompt", "You are a dragon who loves gold and shiny things."});
  const auto sys = run_prima(with);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  ASSERT_EQ(sys.exit_code, 0) << sys.err;
  const std::regex prompt_len(R"(prompt (\d+) tokens)");
  std::smatch a, b;
  ASSERT_TRUE(std::regex_search(plain.err, a, prompt_len)) << plain.err;
  ASSERT_TRUE(std::regex_search(sys.err, b, prompt_len)) << sys.err;
  EXPECT_GT(std::stoi(b[1]), std::stoi(a[1]) + 5);  // the system message went into the prompt
}

TEST(ChatCli, ResetForgetsTheConversation) {
  const auto r = run_with_input(kChat, "Tell me about a cat.\n/reset\nTell me about a cat.\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("conversation reset"), std::string::npos);
  const auto t = turns(r.err);
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1].first, t[0].first);       // the same first turn again
  EXPECT_EQ(t[1].second, t[0].first - 1);  // and its cache is still there
  // Two identical answers, each followed by a newline (an answer may hold newlines itself).
  ASSERT_EQ(r.out.size() % 2, 0u);
  EXPECT_EQ(r.out.substr(0, r.out.size() / 2), r.out.substr(r.out.size() / 2));
}

TEST(ChatCli, MultiLineMessagesAndEmptyInput) {
  auto r = run_with_input(kChat, "Tell me \\\nabout a cat.\n\n   \n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(turns(r.err).size(), 1u);  // blank lines are not turns
  r = run_with_input(kChat, "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(ChatCli, ClearErrors) {
  // No template in the model and none given: the error names the way out.
  auto r = run_with_input({"chat", "-m", kModel}, "hi\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--chat-template"), std::string::npos) << r.err;
  r = run_with_input({"chat", "-m", kModel, "--chat-template", "nonsense"}, "hi\n");
  EXPECT_NE(r.exit_code, 0);
  r = run_prima({"run", "-m", kModel, "--chat", "-p", "hi"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--chat-template"), std::string::npos) << r.err;
  // A message longer than the context is refused; the chat goes on.
  r = run_with_input({"chat", "-m", kModel, "--chat-template", "chatml", "--temp", "0", "-n", "8", "-c", "128", "-t", "2"},
                     std::string(3000, 'x') + "\nHello.\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("context"), std::string::npos) << r.err;
  EXPECT_EQ(turns(r.err).size(), 1u);
}
