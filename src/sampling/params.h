// Sampling parameters of one sequence, with the defaults of llama.cpp's common sampler where it has them,
// and their validation.
//
// The server and the CLI fill a SamplingParams from untrusted input and call validate() (or
// validate(n_vocab), which also checks logit-bias token ids) before building a Sampler: that is the one
// place where nonsense is refused. The Sampler trusts what it is given.
//
// Meaning of the neutral values ("off"):
//   temperature 0        greedy (argmax after logit bias and penalties; ties: lowest token id)
//   top_k 0              no top-k
//   top_p 1              no nucleus cut
//   min_p 0              no min-p cut
//   repeat_penalty 1     no repetition penalty
//   frequency_penalty 0, presence_penalty 0: none
//   repeat_last_n 0      no penalties at all;  -1: every token accepted since the last reset()
//   seed unset           a seed is drawn from std::random_device when the Sampler is built
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace prima::sampling {

struct SamplingParams {
  float temperature = 0.8f;        // >= 0, finite; 0 = greedy              (llama.cpp --temp)
  int32_t top_k = 40;              // >= 0; 0 = off                         (--top-k)
  float top_p = 0.95f;             // (0, 1]; 1 = off                       (--top-p)
  float min_p = 0.05f;             // [0, 1]; 0 = off                       (--min-p)
  float repeat_penalty = 1.0f;     // > 0, finite; 1 = off                  (--repeat-penalty)
  int32_t repeat_last_n = 64;      // >= -1; window of all three penalties  (--repeat-last-n)
  float frequency_penalty = 0.0f;  // [-2, 2] (OpenAI's range); 0 = off     (--frequency-penalty)
  float presence_penalty = 0.0f;   // [-2, 2] (OpenAI's range); 0 = off     (--presence-penalty)
  std::optional<uint64_t> seed;    // unset = random                        (--seed; -1 there = unset)
  // Added to the logits of the given tokens before anything else; -inf bans a token. Biases for the same
  // token add up. Values: finite or -inf.
  std::vector<std::pair<int32_t, float>> logit_bias;

  // Greedy decoding: temperature 0, everything else at its default (the defaults cannot change the argmax).
  static SamplingParams greedy() {
    SamplingParams p;
    p.temperature = 0.0f;
    return p;
  }

  // Refuses nonsense with a Status::Code::invalid naming the field, e.g. "top_p must be in (0, 1], got 1.5".
  Status validate() const;
  // validate() plus: n_vocab > 0 and every logit_bias token id in [0, n_vocab).
  Status validate(int32_t n_vocab) const;

  // True when some penalty can change a logit (a penalty is set and repeat_last_n != 0).
  bool penalties_active() const;
};

// One line for logs and the end-of-run summary:
// "temp 0.80, top-k 40, top-p 0.95, min-p 0.05, repeat 1.00 over 64, freq 0.00, presence 0.00, seed random".
std::string describe(const SamplingParams& p);

}  // namespace prima::sampling
