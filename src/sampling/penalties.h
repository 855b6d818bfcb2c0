// Repetition, frequency and presence penalties over a window of recent tokens.
//
// For every distinct token t among the last `last_n` accepted tokens (prompt and generated), occurring
// c_t > 0 times there, in this order:
//   repetition (llama.cpp):   logit_t = logit_t > 0 ? logit_t / repeat_penalty : logit_t * repeat_penalty
//   frequency and presence (OpenAI, same window):
//                             logit_t -= c_t * frequency_penalty + presence_penalty
// The repetition penalty applies once per distinct token, however often it occurs. Tokens outside the
// window are untouched. last_n = -1 means every token pushed since the last clear().
//
// Cost: push() is O(distinct tokens in the window) at worst, apply() is O(distinct tokens in the window),
// both independent of the vocabulary size. Memory: one count per vocabulary entry plus the window; nothing
// is allocated per token once the window is full.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace prima::sampling {

class PenaltyWindow {
 public:
  // last_n: > 0 a window of that many tokens, -1 the whole history, 0 nothing is kept.
  PenaltyWindow(int32_t n_vocab, int32_t last_n);

  void push(int32_t token);  // token in [0, n_vocab)
  void clear();

  // Applies the three penalties to logits[n_vocab] in place.
  void apply(std::span<float> logits, float repeat_penalty, float frequency_penalty, float presence_penalty) const;

  int32_t count(int32_t token) const { return counts_.empty() ? 0 : counts_[static_cast<size_t>(token)]; }
  size_t n_tokens() const;                           // tokens currently in the window
  size_t n_distinct() const { return distinct_.size(); }

 private:
  int32_t last_n_;
  std::vector<int32_t> counts_;    // [n_vocab] occurrences in the window (empty when last_n == 0)
  std::vector<int32_t> distinct_;  // [n_distinct] tokens with counts_ > 0, in no particular order
  std::vector<int32_t> ring_;      // [min(pushed, last_n)] the window, oldest at ring_head_ once full (last_n > 0)
  size_t ring_head_ = 0;
  uint64_t n_pushed_ = 0;          // since clear()
};

}  // namespace prima::sampling
