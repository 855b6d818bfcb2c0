#include "sampling/params.h"

#include <cmath>

namespace prima::sampling {

namespace {

Status invalid(std::string msg) { return Status::error(Status::Code::invalid, std::move(msg)); }

}  // namespace

// Every comparison is written so that NaN fails it: `!(x >= lo && x <= hi)` is true for NaN.
Status SamplingParams::validate() const {
  if (!(std::isfinite(temperature) && temperature >= 0.0f))
    return invalid(fmt::format("temperature must be a finite number >= 0, got {}", temperature));
  if (top_k < 0) return invalid(fmt::format("top_k must be >= 0 (0 = off), got {}", top_k));
  if (!(top_p > 0.0f && top_p <= 1.0f)) return invalid(fmt::format("top_p must be in (0, 1], got {}", top_p));
  if (!(min_p >= 0.0f && min_p <= 1.0f)) return invalid(fmt::format("min_p must be in [0, 1], got {}", min_p));
  if (!(std::isfinite(repeat_penalty) && repeat_penalty > 0.0f))
    return invalid(fmt::format("repeat_penalty must be a finite number > 0 (1 = off), got {}", repeat_penalty));
  if (repeat_last_n < -1)
    return invalid(fmt::format("repeat_last_n must be >= -1 (0 = off, -1 = whole history), got {}", repeat_last_n));
  if (!(frequency_penalty >= -2.0f && frequency_penalty <= 2.0f))
    return invalid(fmt::format("frequency_penalty must be in [-2, 2], got {}", frequency_penalty));
  if (!(presence_penalty >= -2.0f && presence_penalty <= 2.0f))
    return invalid(fmt::format("presence_penalty must be in [-2, 2], got {}", presence_penalty));
  for (const auto& [token, bias] : logit_bias) {
    if (token < 0) return invalid(fmt::format("logit_bias: token id must be >= 0, got {}", token));
    if (std::isnan(bias) || bias == INFINITY)
      return invalid(fmt::format("logit_bias for token {} must be finite or -inf, got {}", token, bias));
  }
  return Status::ok();
}

Status SamplingParams::validate(int32_t n_vocab) const {
  if (n_vocab <= 0) return invalid(fmt::format("vocabulary size must be > 0, got {}", n_vocab));
  Status s = validate();
  if (!s) return s;
  for (const auto& [token, bias] : logit_bias) {
    if (token >= n_vocab)
      return invalid(fmt::format("logit_bias: token id {} is outside the vocabulary [0, {})", token, n_vocab));
  }
  return Status::ok();
}

bool SamplingParams::penalties_active() const {
  return repeat_last_n != 0 && (repeat_penalty != 1.0f || frequency_penalty != 0.0f || presence_penalty != 0.0f);
}

std::string describe(const SamplingParams& p) {
  std::string s = p.temperature == 0.0f ? std::string("greedy") : fmt::format("temp {:.2f}", p.temperature);
  s += fmt::format(", top-k {}, top-p {:.2f}, min-p {:.2f}", p.top_k, p.top_p, p.min_p);
  const std::string window = p.repeat_last_n < 0 ? std::string("all") : fmt::format("{}", p.repeat_last_n);
  s += fmt::format(", repeat {:.2f} over {}, freq {:.2f}, presence {:.2f}", p.repeat_penalty, window,
                   p.frequency_penalty, p.presence_penalty);
  s += p.seed ? fmt::format(", seed {}", *p.seed) : std::string(", seed random");
  if (!p.logit_bias.empty()) s += fmt::format(", {} logit biases", p.logit_bias.size());
  return s;
}

}  // namespace prima::sampling
