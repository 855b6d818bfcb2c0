#include "sampling/sampler.h"

#include <algorithm>

namespace prima::sampling {

namespace {

SamplingParams checked(SamplingParams params, int32_t n_vocab) {
  if (Status s = params.validate(n_vocab); !s) fail("sampling parameters: {}", s.message());
  return params;
}

uint64_t random_seed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ static_cast<uint64_t>(rd());
}

// One entry per token, in id order; biases for the same token add up.
std::vector<std::pair<int32_t, float>> merge_bias(std::vector<std::pair<int32_t, float>> bias) {
  std::sort(bias.begin(), bias.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::pair<int32_t, float>> merged;
  for (const auto& [token, b] : bias) {
    if (!merged.empty() && merged.back().first == token) {
      merged.back().second += b;
    } else {
      merged.emplace_back(token, b);
    }
  }
  return merged;
}

}  // namespace

Sampler::Sampler(SamplingParams params, int32_t n_vocab)
    : params_(checked(std::move(params), n_vocab)),
      n_vocab_(n_vocab),
      seed_(params_.seed ? *params_.seed : random_seed()),
      rng_(seed_),
      bias_(merge_bias(params_.logit_bias)),
      penalties_(params_.penalties_active()),
      history_(n_vocab, penalties_ ? params_.repeat_last_n : 0) {
  const auto n = static_cast<size_t>(n_vocab);
  if (!bias_.empty() || penalties_) work_.resize(n);
  if (params_.temperature > 0.0f) {
    cands_.items.reserve(n);
    weights_.reserve(n);
  }
}

Result<Sample> Sampler::sample(std::span<const float> logits) {
  PRIMA_ASSERT(logits.size() == static_cast<size_t>(n_vocab_));

  // 1-2. Logit bias and penalties, on a copy (the caller's logits stay as the model produced them).
  std::span<const float> l = logits;
  if (!work_.empty()) {
    std::copy(logits.begin(), logits.end(), work_.begin());
    for (const auto& [token, b] : bias_) work_[static_cast<size_t>(token)] += b;
    if (penalties_) {
      history_.apply(work_, params_.repeat_penalty, params_.frequency_penalty, params_.presence_penalty);
    }
    l = work_;
  }

  if (params_.temperature == 0.0f) {
    const int32_t token = argmax(l);
    if (token < 0) return Status::error(Status::Code::invalid, "no token to sample: every logit is NaN or -inf");
    return Sample{token, 1.0f};
  }

  // 3-6. Truncate, then draw.
  if (fill_candidates(cands_, l, params_.top_k) == 0) {  // with top-k
    return Status::error(Status::Code::invalid, "no token to sample: every logit is NaN or -inf");
  }
  keep_top_p(cands_, params_.top_p);
  keep_min_p(cands_, params_.min_p);
  return draw(cands_, params_.temperature, uniform01(rng_), weights_);
}

void Sampler::accept(int32_t token) {
  PRIMA_ASSERT(token >= 0 && token < n_vocab_);
  if (penalties_) history_.push(token);
}

void Sampler::accept(std::span<const int32_t> tokens) {
  for (int32_t t : tokens) accept(t);
}

void Sampler::reset() {
  history_.clear();
  rng_.seed(seed_);
}

}  // namespace prima::sampling
