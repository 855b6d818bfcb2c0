// Conversation (prima chat): the KV cache carries over between turns, and what a turn answers is exactly what a
// fresh evaluation of the whole conversation would answer.
#include <gtest/gtest.h>

#include "engine_fixture.h"
#include "runtime/generate.h"
#include "server/conversation.h"

using namespace prima;
using prima::test::TinyModel;

namespace {

std::string answer(server::Conversation& c, const std::string& user, int32_t n, server::TurnStats& st) {
  const auto& m = TinyModel::get();
  sampling::Sampler sampler(sampling::SamplingParams::greedy(), m.model->hparams().n_vocab);
  std::string out;
  const Status s = c.turn(user, sampler, n, [&](std::string_view t) { out += t; return true; }, st);
  EXPECT_TRUE(s) << s.message();
  return out;
}

// The answer to the same conversation on a fresh engine, everything evaluated from scratch.
std::string fresh(const tokenizer::ChatTemplate& tmpl, const std::vector<tokenizer::ChatMessage>& msgs, int32_t n) {
  const auto& m = TinyModel::get();
  auto engine = m.engine(1, 512);
  sampling::Sampler sampler(sampling::SamplingParams::greedy(), m.model->hparams().n_vocab);
  tokenizer::StreamDecoder dec(*m.tok);
  std::string out;
  runtime::GenerateOptions opt;
  opt.n_predict = n;
  opt.is_eog = [&](int32_t t) { return m.tok->is_eog(t); };
  runtime::GenerateStats stats;
  const auto prompt = tokenizer::encode_chat(*m.tok, tmpl, msgs, true);
  EXPECT_TRUE(runtime::generate(*engine, sampler, prompt, opt, [&](int32_t t) { out += dec.push(t); return true; }, stats));
  return out + dec.flush();
}

}  // namespace

TEST(Conversation, LaterTurnsEvaluateOnlyWhatIsNew) {
  const auto& m = TinyModel::get();
  for (const char* family : {"chatml", "llama3", "llama2", "mistral", "deepseek-r1"}) {
    const auto tmpl = tokenizer::ChatTemplate::from_string("", "<s>", "</s>", family);
    auto engine = m.engine(1, 512);
    server::Conversation c(*engine, *m.tok, tmpl);
    c.set_system("You tell short stories.");
    server::TurnStats s1, s2, s3;
    const std::string a1 = answer(c, "Tell me about a cat.", 24, s1);
    EXPECT_EQ(s1.n_reused, 0);
    EXPECT_FALSE(a1.empty());
    const std::string a2 = answer(c, "And a dog?", 24, s2);
    // Everything up to the first answer was in the cache: only the new turn (and whatever the re-rendered answer
    // changed) is evaluated.
    // chatml and llama3 render the answer exactly as it was generated: the first prompt and every answer token the
    // engine evaluated (all but the last) are reused. llama2 puts a space before the answer (re-tokenized
    // differently), mistral v0.3 moves the system prompt into the last user turn, deepseek-r1 drops the "<think>"
    // of the generation prompt from earlier turns: there less is reused, and the answers must still agree.
    const std::string f = family;
    if (f == "chatml" || f == "llama3") EXPECT_EQ(s2.n_reused, s1.n_prompt + s1.n_gen - 1) << family;
    else if (f == "llama2") EXPECT_EQ(s2.n_reused, s1.n_prompt) << family;
    else EXPECT_GT(s2.n_reused, 0) << family;
    // Same answer as evaluating the whole conversation from scratch.
    auto history = c.messages();
    history.pop_back();
    EXPECT_EQ(a2, fresh(tmpl, history, 24)) << family;
    const std::string a3 = answer(c, "Thanks!", 16, s3);
    history = c.messages();
    history.pop_back();
    EXPECT_EQ(a3, fresh(tmpl, history, 16)) << family;
    ASSERT_EQ(c.messages().size(), 7u);  // system + 3 exchanges
    EXPECT_EQ(c.messages()[2].role, "assistant");
    EXPECT_EQ(c.messages()[2].content, a1);
  }
}

TEST(Conversation, ResetKeepsTheSystemPromptsCache) {
  const auto& m = TinyModel::get();
  const auto tmpl = tokenizer::ChatTemplate::from_string("", "<s>", "</s>", "chatml");
  auto engine = m.engine(1, 512);
  server::Conversation c(*engine, *m.tok, tmpl);
  c.set_system("You tell short stories about animals.");
  server::TurnStats s1, s2;
  const std::string a1 = answer(c, "Tell me about a cat.", 16, s1);
  c.reset();
  EXPECT_EQ(c.messages().size(), 1u);
  const std::string a2 = answer(c, "Tell me about a cat.", 16, s2);
  EXPECT_EQ(a1, a2);
  EXPECT_EQ(s2.n_reused, s2.n_prompt - 1);  // the same first turn again: all but the last token reused
}

TEST(Conversation, OldExchangesMakeRoomWhenTheContextIsFull) {
  const auto& m = TinyModel::get();
  const auto tmpl = tokenizer::ChatTemplate::from_string("", "<s>", "</s>", "chatml");
  auto engine = m.engine(1, 160);
  server::Conversation c(*engine, *m.tok, tmpl);
  c.set_system("Stories.");
  int dropped = 0;
  for (int i = 0; i < 6; ++i) {
    server::TurnStats st;
    answer(c, "Tell me a story about a little bird and a big tree.", 30, st);
    dropped += st.n_dropped;
    EXPECT_LT(st.n_prompt, 160);
    EXPECT_EQ(c.messages().front().role, "system");
  }
  EXPECT_GT(dropped, 0);
  // A message that cannot fit even alone is refused, and the conversation stays as it was.
  const auto before = c.messages();
  const auto& mm = TinyModel::get();
  sampling::Sampler sampler(sampling::SamplingParams::greedy(), mm.model->hparams().n_vocab);
  server::TurnStats st;
  const Status s = c.turn(std::string(2000, 'x'), sampler, 4, [](std::string_view) { return true; }, st);
  EXPECT_FALSE(s);
  EXPECT_NE(s.message().find("context"), std::string::npos) << s.message();
  EXPECT_EQ(c.messages().size(), before.size());
  answer(c, "Hello again.", 8, st);  // still usable
}

TEST(Conversation, StoppingAnAnswerEarlyKeepsTheConversationConsistent) {
  const auto& m = TinyModel::get();
  const auto tmpl = tokenizer::ChatTemplate::from_string("", "<s>", "</s>", "chatml");
  auto engine = m.engine(1, 512);
  server::Conversation c(*engine, *m.tok, tmpl);
  sampling::Sampler sampler(sampling::SamplingParams::greedy(), m.model->hparams().n_vocab);
  server::TurnStats st;
  int n = 0;
  ASSERT_TRUE(c.turn("Tell me about a cat.", sampler, -1, [&](std::string_view) { return ++n < 5; }, st));
  EXPECT_EQ(st.stop_reason, "stopped");
  std::string a2 = answer(c, "More!", 12, st);
  auto history = c.messages();
  history.pop_back();
  EXPECT_EQ(a2, fresh(tmpl, history, 12));
}
