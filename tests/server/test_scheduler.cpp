// The scheduler over a real LocalEngine: continuous batching gives every request exactly what it would get alone
// (greedy and seeded sampling), prefix reuse, cancellation, the queue bound, stop sequences, token and context
// limits.
#include <gtest/gtest.h>

#include <thread>

#include "engine_fixture.h"
#include "runtime/generate.h"
#include "server/scheduler.h"

using namespace prima;
using namespace prima::server;
using prima::test::TinyModel;

namespace {

const char* const kPrompts[] = {"Once upon a time", "Tom and Lily went to the park", "The cat sat", "One day, a little bird",
                                "Sue had a red ball. She", "Max was sad because"};

std::vector<int32_t> encode(const std::string& text) { return TinyModel::get().tok->encode(text, true, false); }

Job job(const std::string& prompt, int32_t max_tokens, sampling::SamplingParams p = sampling::SamplingParams::greedy()) {
  Job j;
  j.prompt = encode(prompt);
  j.sampler = std::make_unique<sampling::Sampler>(p, TinyModel::get().model->hparams().n_vocab);
  j.max_tokens = max_tokens;
  return j;
}

Progress wait_done(Task& t) {
  Progress p;
  for (int i = 0; i < 600 && !p.done; ++i) t.wait(p, std::chrono::milliseconds(100));
  EXPECT_TRUE(p.done) << "the request did not finish within 60 s";
  return p;
}

// The reference: runtime::generate on a fresh single-sequence engine.
std::string alone(const std::string& prompt, int32_t max_tokens,
                  sampling::SamplingParams p = sampling::SamplingParams::greedy()) {
  const auto& m = TinyModel::get();
  auto engine = m.engine(1);
  sampling::Sampler sampler(p, m.model->hparams().n_vocab);
  tokenizer::StreamDecoder dec(*m.tok);
  std::string out;
  runtime::GenerateOptions opt;
  opt.n_predict = max_tokens;
  opt.is_eog = [&](int32_t t) { return m.tok->is_eog(t); };
  runtime::GenerateStats stats;
  const auto ids = encode(prompt);
  EXPECT_TRUE(runtime::generate(*engine, sampler, ids, opt, [&](int32_t t) { out += dec.push(t); return true; }, stats));
  return out + dec.flush();
}

}  // namespace

// The premise of batching without changing results: a row's logits do not depend on the other rows of the batch.
TEST(Scheduler, EngineRowsDoNotDependOnTheBatch) {
  const auto& m = TinyModel::get();
  const auto a = encode(kPrompts[0]), b = encode(kPrompts[1]);
  const size_t n_vocab = static_cast<size_t>(m.model->hparams().n_vocab);
  auto e1 = m.engine(2);
  runtime::TokenBatch batch;
  std::vector<float> alone_logits, mixed_logits;
  for (size_t i = 0; i < a.size(); ++i) batch.add(a[i], static_cast<int32_t>(i), 0, true);
  ASSERT_TRUE(e1->decode(batch, alone_logits));

  auto e2 = m.engine(2);
  batch.clear();
  // Interleave b's tokens with a's, and split a differently.
  for (size_t i = 0; i < b.size(); ++i) batch.add(b[i], static_cast<int32_t>(i), 1, i % 2 == 0);
  for (size_t i = 0; i < 2; ++i) batch.add(a[i], static_cast<int32_t>(i), 0, true);
  std::vector<float> part;
  ASSERT_TRUE(e2->decode(batch, part));
  const size_t n_b_out = (b.size() + 1) / 2;
  mixed_logits.assign(part.begin() + static_cast<long>(n_b_out * n_vocab), part.end());
  for (size_t i = 2; i < a.size(); ++i) {
    batch.clear();
    batch.add(a[i], static_cast<int32_t>(i), 0, true);
    ASSERT_TRUE(e2->decode(batch, part));
    mixed_logits.insert(mixed_logits.end(), part.begin(), part.end());
  }
  ASSERT_EQ(alone_logits.size(), mixed_logits.size());
  EXPECT_EQ(alone_logits, mixed_logits);  // bit for bit
}

TEST(Scheduler, GreedyAloneMatchesGenerate) {
  const auto& m = TinyModel::get();
  auto engine = m.engine(1);
  Scheduler s(*engine, *m.tok);
  auto t = s.submit(job(kPrompts[0], 40));
  ASSERT_TRUE(t) << t.status().message();
  const Progress p = wait_done(**t);
  EXPECT_EQ(p.text, alone(kPrompts[0], 40));
  EXPECT_EQ(p.finish_reason, "length");
  EXPECT_EQ(p.usage.completion_tokens, 40);
  EXPECT_EQ(p.usage.prompt_tokens, static_cast<int32_t>(encode(kPrompts[0]).size()));
  EXPECT_TRUE(p.error.empty());
}

TEST(Scheduler, ConcurrentRequestsGetWhatTheyWouldGetAlone) {
  const auto& m = TinyModel::get();
  for (const int32_t n_slots : {4, 2}) {  // 2 slots: the other requests wait in the queue
    auto engine = m.engine(n_slots);
    SchedulerOptions so;
    so.n_batch = 7;  // small steps: prompts are chunked and interleaved with other sequences' tokens
    Scheduler s(*engine, *m.tok, so);
    std::vector<std::shared_ptr<Task>> tasks;
    for (const char* p : kPrompts) {
      auto t = s.submit(job(p, 30 + static_cast<int32_t>(tasks.size()) * 5));
      ASSERT_TRUE(t);
      tasks.push_back(*t);
    }
    for (size_t i = 0; i < tasks.size(); ++i) {
      const Progress p = wait_done(*tasks[i]);
      EXPECT_EQ(p.text, alone(kPrompts[i], 30 + static_cast<int32_t>(i) * 5)) << kPrompts[i] << " with " << n_slots << " slots";
    }
    const auto st = s.stats();
    EXPECT_EQ(st.requests_finished, 6);
    EXPECT_GT(st.batch_tokens, st.steps);  // steps really carried several tokens
  }
}

TEST(Scheduler, PromptsProgressWhenGeneratingSequencesFillTheBatch) {
  const auto& m = TinyModel::get();
  auto engine = m.engine(6);
  SchedulerOptions so;
  so.n_batch = 2;  // fewer than the sequences generating at once
  Scheduler s(*engine, *m.tok, so);
  std::vector<std::shared_ptr<Task>> tasks;
  for (const char* p : kPrompts) tasks.push_back(*s.submit(job(p, 20)));
  for (size_t i = 0; i < tasks.size(); ++i) EXPECT_EQ(wait_done(*tasks[i]).text, alone(kPrompts[i], 20)) << kPrompts[i];
}

TEST(Scheduler, SeededSamplingIsReproducibleUnderLoad) {
  const auto& m = TinyModel::get();
  sampling::SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 1234;
  auto engine = m.engine(3);
  Scheduler s(*engine, *m.tok);
  std::vector<std::shared_ptr<Task>> tasks;
  for (int i = 0; i < 3; ++i) tasks.push_back(*s.submit(job(kPrompts[i], 25, p)));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(wait_done(*tasks[static_cast<size_t>(i)]).text, alone(kPrompts[i], 25, p));
}

TEST(Scheduler, ReusesTheKvCacheOfASharedPrefix) {
  const auto& m = TinyModel::get();
  auto engine = m.engine(2);
  Scheduler s(*engine, *m.tok);
  const std::string first = kPrompts[4];
  const Progress a = wait_done(**s.submit(job(first, 10)));
  const std::string second = first + a.text + " Then";
  const Progress b = wait_done(**s.submit(job(second, 10)));
  // The first prompt and the answer's tokens that went back into the cache are reused.
  EXPECT_GE(b.usage.cached_tokens, static_cast<int32_t>(encode(first).size()));
  EXPECT_EQ(b.text, alone(second, 10));
  // The same prompt again: everything but the last token.
  const Progress c = wait_done(**s.submit(job(second, 10)));
  EXPECT_EQ(c.usage.cached_tokens, static_cast<int32_t>(encode(second).size()) - 1);
  EXPECT_EQ(c.text, b.text);
  EXPECT_GT(s.stats().prompt_tokens_cached, 0);
}

TEST(Scheduler, CancelFreesTheSlotAtOnce) {
  const auto& m = TinyModel::get();
  auto engine = m.engine(1, 4096);
  Scheduler s(*engine, *m.tok);
  Job endless = job(kPrompts[0], -1);
  endless.ignore_eos = true;  // runs until the 4096-token context is full
  auto t = *s.submit(std::move(endless));
  Progress p;
  while (p.text.empty()) t->wait(p, std::chrono::milliseconds(100));
  t->cancel();
  const Progress end = wait_done(*t);
  EXPECT_EQ(end.error, "cancelled");
  EXPECT_LT(end.n_tokens, 4000);
  // The one slot is free again: the next request runs.
  EXPECT_EQ(wait_done(**s.submit(job(kPrompts[1], 5))).usage.completion_tokens, 5);
  EXPECT_EQ(s.stats().requests_cancelled, 1);
}

TEST(Scheduler, QueueIsBounded) {
  const auto& m = TinyModel::get();
  auto engine = m.engine(1, 4096);
  SchedulerOptions so;
  so.max_queue = 1;
  Scheduler s(*engine, *m.tok, so);
  Job long_job = job(kPrompts[0], 3000);
  long_job.ignore_eos = true;
  auto running = *s.submit(std::move(long_job));
  Progress p;
  while (p.text.empty()) running->wait(p, std::chrono::milliseconds(50));  // it holds the slot now
  auto queued = s.submit(job(kPrompts[1], 3));
  ASSERT_TRUE(queued);
  auto refused = s.submit(job(kPrompts[2], 3));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.status().code(), Status::Code::closed);
  running->cancel();
  EXPECT_EQ(wait_done(**queued).usage.completion_tokens, 3);
  EXPECT_EQ(s.stats().requests_rejected, 1);
}

TEST(Scheduler, AZeroQueueStillFillsFreeSlots) {
  const auto& m = TinyModel::get();
  auto engine = m.engine(2, 4096);
  SchedulerOptions so;
  so.max_queue = 0;
  Scheduler s(*engine, *m.tok, so);
  std::vector<std::shared_ptr<Task>> running;
  for (int i = 0; i < 2; ++i) {
    Job j = job(kPrompts[i], 3000);
    j.ignore_eos = true;
    auto t = s.submit(std::move(j));
    ASSERT_TRUE(t) << t.status().message();
    running.push_back(*t);
  }
  for (auto& t : running) {
    Progress p;
    while (p.text.empty()) t->wait(p, std::chrono::milliseconds(50));
  }
  EXPECT_FALSE(s.submit(job(kPrompts[2], 3)));  // both slots busy, no room to wait
  for (auto& t : running) t->cancel();
  for (auto& t : running) wait_done(*t);
  EXPECT_EQ(wait_done(**s.submit(job(kPrompts[2], 3))).usage.completion_tokens, 3);
}

TEST(Scheduler, StopSequencesEndTheAnswerBeforeThem) {
  const auto& m = TinyModel::get();
  const std::string full = alone(kPrompts[0], 60);
  ASSERT_GT(full.size(), 30u);
  const std::string stop = full.substr(20, 6);
  const size_t at = full.find(stop);
  auto engine = m.engine(1);
  Scheduler s(*engine, *m.tok);
  Job j = job(kPrompts[0], 60);
  j.stop = {stop, "never appears"};
  const Progress p = wait_done(**s.submit(std::move(j)));
  EXPECT_EQ(p.text, full.substr(0, at));
  EXPECT_EQ(p.finish_reason, "stop");
  EXPECT_LT(p.usage.completion_tokens, 60);
}

TEST(Scheduler, ContextLimits) {
  const auto& m = TinyModel::get();
  auto engine = m.engine(1, 32);
  Scheduler s(*engine, *m.tok);
  Job j = job(kPrompts[0], 1000);
  j.ignore_eos = true;
  const int32_t n_prompt = static_cast<int32_t>(j.prompt.size());
  const Progress p = wait_done(**s.submit(std::move(j)));
  EXPECT_EQ(p.finish_reason, "length");
  EXPECT_EQ(p.usage.completion_tokens, 32 - n_prompt + 1);  // the last one is sampled but never stored
  Job too_long;
  too_long.prompt.assign(32, 1);
  too_long.sampler = std::make_unique<sampling::Sampler>(sampling::SamplingParams::greedy(), 512);
  auto r = s.submit(std::move(too_long));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.status().code(), Status::Code::invalid);
}

TEST(Scheduler, ShutdownFailsWhatIsLeft) {
  const auto& m = TinyModel::get();
  auto engine = m.engine(1, 4096);
  auto s = std::make_unique<Scheduler>(*engine, *m.tok);
  Job j = job(kPrompts[0], 4000);
  j.ignore_eos = true;
  auto t = *s->submit(std::move(j));
  auto waiting = *s->submit(job(kPrompts[1], 4));
  s->shutdown();
  EXPECT_TRUE(wait_done(*t).done);
  const Progress w = wait_done(*waiting);
  EXPECT_FALSE(w.error.empty());
  EXPECT_FALSE(s->submit(job(kPrompts[1], 4)));
}

TEST(Scheduler, EngineRowsDoNotDependOnTheBatchSize) {
  const auto& m = TinyModel::get();
  const size_t n_vocab = static_cast<size_t>(m.model->hparams().n_vocab);
  std::vector<int32_t> ids = encode("Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day she saw a big red ball.");
  auto e1 = m.engine(1), e2 = m.engine(1);
  runtime::TokenBatch batch;
  std::vector<float> all, one, steps;
  for (size_t i = 0; i < ids.size(); ++i) batch.add(ids[i], static_cast<int32_t>(i), 0, true);
  ASSERT_TRUE(e1->decode(batch, all));
  for (size_t i = 0; i < ids.size(); ++i) {
    batch.clear();
    batch.add(ids[i], static_cast<int32_t>(i), 0, true);
    ASSERT_TRUE(e2->decode(batch, one));
    steps.insert(steps.end(), one.begin(), one.end());
  }
  ASSERT_EQ(all.size(), steps.size());
  size_t first_diff = all.size();
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i] != steps[i]) { first_diff = i; break; }
  EXPECT_EQ(first_diff, all.size()) << "row " << first_diff / n_vocab << " of " << ids.size() << " differs";
}
