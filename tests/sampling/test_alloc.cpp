// "No allocation per token in steady state", checked: this binary counts every operator new.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

#include "sampling/sampler.h"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// These replace the global allocation functions, so new/free pairs are intended here; GCC's
// -Wmismatched-new-delete cannot tell a replacement from a mismatch.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

using namespace prima::sampling;

namespace {

long allocations_during_steady_state(SamplingParams p) {
  const int32_t n_vocab = 20000;
  std::mt19937_64 rng(1);
  std::vector<float> logits(static_cast<size_t>(n_vocab));
  for (float& x : logits) x = static_cast<float>(uniform01(rng) * 10.0);
  Sampler s(p, n_vocab);
  const auto step = [&] {
    logits[rng() % logits.size()] += 3.0f;  // let the choice wander so the penalty window churns
    const prima::Result<Sample> r = s.sample(logits);
    EXPECT_TRUE(r);
    s.accept(r->token);
  };
  for (int i = 0; i < 300; ++i) step();  // fills the window
  const long before = g_allocations.load();
  for (int i = 0; i < 300; ++i) step();
  return g_allocations.load() - before;
}

}  // namespace

TEST(SamplerAllocations, NoneInSteadyState) {
  SamplingParams defaults;
  defaults.seed = 1;
  EXPECT_EQ(allocations_during_steady_state(defaults), 0);

  SamplingParams nucleus = defaults;  // top-p over the whole vocabulary, penalties, bias
  nucleus.top_k = 0;
  nucleus.min_p = 0.0f;
  nucleus.repeat_penalty = 1.1f;
  nucleus.frequency_penalty = 0.2f;
  nucleus.presence_penalty = 0.2f;
  nucleus.logit_bias = {{3, -1.0f}, {7, 2.0f}};
  EXPECT_EQ(allocations_during_steady_state(nucleus), 0);

  SamplingParams greedy = SamplingParams::greedy();
  greedy.repeat_penalty = 1.3f;
  greedy.repeat_last_n = -1;
  EXPECT_EQ(allocations_during_steady_state(greedy), 0);
}
