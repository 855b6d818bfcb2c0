// One sample() on a Qwen2-sized vocabulary (152064) for the chains people use. The budget: well under a
// millisecond, small next to one forward pass. Reports tokens sampled per second.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>

#include "sampling/sampler.h"

using namespace prima::sampling;

namespace {

constexpr int32_t kVocab = 152064;

// Model-like logits: a normal body (sd 2.5) and, unless `flat`, a handful of strong candidates. Flat logits
// are the hard case for top-p: the nucleus then holds tens of thousands of tokens.
std::vector<float> model_like_logits(uint64_t seed, bool flat = false) {
  std::mt19937_64 rng(seed);
  std::vector<float> l(kVocab);
  for (float& x : l) {
    const double u1 = 1.0 - uniform01(rng), u2 = uniform01(rng);
    x = static_cast<float>(2.5 * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
  }
  if (!flat) {
    for (int i = 0; i < 8; ++i) l[rng() % kVocab] = 14.0f + static_cast<float>(i);
  }
  return l;
}

void run(benchmark::State& state, SamplingParams p, bool flat = false) {
  p.seed = 1;
  Sampler s(p, kVocab);
  const std::vector<float> logits = model_like_logits(7, flat);
  for (auto _ : state) {
    const auto r = s.sample(logits);
    benchmark::DoNotOptimize(r);
    s.accept(r->token);
  }
  state.counters["tok/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_Greedy(benchmark::State& state) { run(state, SamplingParams::greedy()); }

void BM_DefaultChain(benchmark::State& state) { run(state, SamplingParams{}); }  // top-k 40, top-p, min-p, temp

void BM_DefaultChainWithPenalties(benchmark::State& state) {
  SamplingParams p;
  p.repeat_penalty = 1.1f;
  p.frequency_penalty = 0.3f;
  p.presence_penalty = 0.3f;
  p.logit_bias = {{11, -100.0f}, {12, 5.0f}};
  run(state, p);
}

void BM_TopPWithoutTopK(benchmark::State& state) {  // OpenAI-style: top_p only
  SamplingParams p;
  p.top_k = 0;
  p.min_p = 0.0f;
  p.top_p = static_cast<float>(state.range(0)) / 100.0f;
  run(state, p);
}

void BM_TopPWithoutTopKFlat(benchmark::State& state) {
  SamplingParams p;
  p.top_k = 0;
  p.min_p = 0.0f;
  p.top_p = 0.95f;
  run(state, p, /*flat=*/true);
}

void BM_FullSoftmax(benchmark::State& state) {  // no truncation at all: a draw over every token
  SamplingParams p;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.temperature = 1.0f;
  run(state, p);
}

}  // namespace

BENCHMARK(BM_Greedy)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DefaultChain)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DefaultChainWithPenalties)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TopPWithoutTopK)->Arg(90)->Arg(99)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TopPWithoutTopKFlat)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FullSoftmax)->Unit(benchmark::kMicrosecond);
