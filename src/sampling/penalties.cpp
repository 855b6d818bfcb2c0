#include "sampling/penalties.h"

#include <algorithm>

#include "core/error.h"

namespace prima::sampling {

PenaltyWindow::PenaltyWindow(int32_t n_vocab, int32_t last_n) : last_n_(last_n) {
  PRIMA_ASSERT(n_vocab > 0 && last_n >= -1);
  if (last_n_ == 0) return;
  counts_.assign(static_cast<size_t>(n_vocab), 0);
  // The window grows to last_n as tokens come; a huge last_n must not reserve memory it may never use.
  const size_t bound = last_n_ < 0 ? static_cast<size_t>(n_vocab) : static_cast<size_t>(last_n_);
  distinct_.reserve(std::min(bound, static_cast<size_t>(n_vocab)));
  if (last_n_ > 0) ring_.reserve(std::min<size_t>(static_cast<size_t>(last_n_), 4096));
}

size_t PenaltyWindow::n_tokens() const {
  if (last_n_ == 0) return 0;
  return last_n_ < 0 ? static_cast<size_t>(n_pushed_) : ring_.size();
}

void PenaltyWindow::push(int32_t token) {
  if (last_n_ == 0) return;
  PRIMA_ASSERT(token >= 0 && static_cast<size_t>(token) < counts_.size());
  if (last_n_ > 0) {
    if (ring_.size() < static_cast<size_t>(last_n_)) {
      ring_.push_back(token);
    } else {
      // Full: the oldest token leaves the window.
      const int32_t old = ring_[ring_head_];
      ring_[ring_head_] = token;
      ring_head_ = (ring_head_ + 1) % ring_.size();
      if (--counts_[static_cast<size_t>(old)] == 0) {
        auto it = std::find(distinct_.begin(), distinct_.end(), old);
        PRIMA_ASSERT(it != distinct_.end());
        *it = distinct_.back();
        distinct_.pop_back();
      }
    }
  }
  if (counts_[static_cast<size_t>(token)]++ == 0) distinct_.push_back(token);
  ++n_pushed_;
}

void PenaltyWindow::clear() {
  for (int32_t t : distinct_) counts_[static_cast<size_t>(t)] = 0;
  distinct_.clear();
  ring_.clear();
  ring_head_ = 0;
  n_pushed_ = 0;
}

void PenaltyWindow::apply(std::span<float> logits, float repeat_penalty, float frequency_penalty,
                          float presence_penalty) const {
  PRIMA_ASSERT(logits.size() == counts_.size() || distinct_.empty());
  for (int32_t t : distinct_) {
    float& l = logits[static_cast<size_t>(t)];
    const int32_t c = counts_[static_cast<size_t>(t)];
    if (repeat_penalty != 1.0f) l = l > 0.0f ? l / repeat_penalty : l * repeat_penalty;
    l -= static_cast<float>(c) * frequency_penalty + presence_penalty;
  }
}

}  // namespace prima::sampling
