// Sampler: picks the next token of one sequence from its logits.
//
//   SamplingParams params;                        // from the CLI or an HTTP request
//   if (Status s = params.validate(n_vocab); !s) return s;   // untrusted input is checked here, once
//   sampling::Sampler sampler(params, n_vocab);
//   sampler.accept(prompt_tokens);                // penalties see the prompt too
//   for (;;) {
//     Result<Sample> r = sampler.sample(logits);  // logits: [n_vocab] of the last position
//     if (!r) return r.status();                  // every logit NaN / -inf (or all banned)
//     sampler.accept(r->token);
//   }
//
// The chain, in llama.cpp's order (common sampler with its default sampler list):
//   1. logit bias       logit_t += bias_t                       (params.logit_bias)
//   2. penalties        repetition, then frequency and presence, over the last repeat_last_n accepted
//                       tokens (see penalties.h)
//   -- temperature 0: the argmax of the result, ties to the lowest id. Steps 3-6 cannot change it. --
//   3. top-k            keep the k highest logits                (ties: lower id first)
//   4. top-p            keep the smallest top set with probability >= top_p
//   5. min-p            keep tokens with probability >= min_p * the highest probability
//   6. temperature, draw  softmax(logit / temperature) over what is left; one draw of the RNG
// Steps 3-5 use the probabilities before temperature, as llama.cpp does. NaN and -inf logits are never
// sampled; +inf logits win over everything finite (see chain.h). A step that is "off" costs nothing.
//
// Determinism: the RNG is std::mt19937_64 seeded with params.seed (or a random seed, see seed()), and
// every draw uses exactly one engine output converted by our own code; candidate order is total (logit,
// then id). The same seed, logits and accepted tokens give the same tokens on every platform, up to the
// last-bit differences of std::exp / std::log between C libraries, which can only matter when a draw or a
// top-p / min-p cut falls within rounding distance of a boundary. tests/sampling pins a golden sequence.
//
// Cost per token on a 152k vocabulary (bench/sampling, one core): greedy ~65 us; the default chain ~140 us
// (top-k selected by a bounded heap while the candidates are built: no full sort, no full candidate array);
// top-p without top-k ~1-1.7 ms, mostly std::exp (its cut is found with a histogram of the probability
// mass, and only one bucket is sorted). A logit bias or penalty adds one copy of the logits. Buffers are
// sized at construction or on first use: no allocation per token in steady state (tests/sampling/test_alloc.cpp).
// One Sampler per sequence; not thread-safe.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "core/error.h"
#include "sampling/chain.h"
#include "sampling/params.h"
#include "sampling/penalties.h"

namespace prima::sampling {

class Sampler {
 public:
  // Throws prima::Error when params.validate(n_vocab) fails: callers with untrusted input validate first.
  Sampler(SamplingParams params, int32_t n_vocab);

  // Picks a token from logits[n_vocab] (not modified). Does not record it: call accept().
  // Error (Status::Code::invalid) when no token can be picked: every logit is NaN or -inf after bias and
  // penalties. logits.size() != n_vocab is a programming error (assert).
  Result<Sample> sample(std::span<const float> logits);

  // Records tokens for the penalties, prompt tokens included. Ids must be in [0, n_vocab) (assert).
  void accept(int32_t token);
  void accept(std::span<const int32_t> tokens);

  // Forgets the accepted tokens and restarts the RNG from seed(): after reset() the sampler repeats itself.
  void reset();

  const SamplingParams& params() const { return params_; }
  int32_t n_vocab() const { return n_vocab_; }
  uint64_t seed() const { return seed_; }  // the seed in use: params.seed, or the one drawn for it
  const PenaltyWindow& history() const { return history_; }

 private:
  SamplingParams params_;
  int32_t n_vocab_;
  uint64_t seed_;
  std::mt19937_64 rng_;
  std::vector<std::pair<int32_t, float>> bias_;  // logit_bias merged: one entry per token, by id
  bool penalties_;                               // params_.penalties_active()
  PenaltyWindow history_;
  std::vector<float> work_;                      // [n_vocab] logits after bias and penalties (when any)
  Candidates cands_;                             // [<= n_vocab]
  std::vector<float> weights_;                   // [<= n_vocab] scratch of draw()
};

}  // namespace prima::sampling
