// Rotary position embedding. For a head vector x of n_embd_head values, the first n_rot dimensions are taken
// as n_rot/2 pairs; pair i at position p is rotated by theta_i(p) = p * base^(-2i / n_rot):
//   (x0, x1) <- (x0 cos theta - x1 sin theta, x0 sin theta + x1 cos theta)
// NORM pairs adjacent values (x[2i], x[2i+1]); NEOX pairs the halves (x[i], x[i + n_rot/2]).
// Scaling: linear divides theta by the factor; Llama 3.1 divides theta_i by rope_freqs[i]; YaRN blends
// interpolated and extrapolated angles per dimension and scales cos/sin by its magnitude correction.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/hparams.h"

namespace prima::model {

class Rope {
 public:
  Rope(const HParams& hp, const float* freq_factors /* [n_rot / 2] or nullptr */);

  int32_t n_pairs() const { return n_rot_ / 2; }

  // Angles for a batch: cos, sin = [n_tokens][n_rot / 2].
  void angles(std::span<const int32_t> pos, float* cos, float* sin) const;

  // Rotates x = [n_tokens][n_heads][n_embd_head] in place with the angles of `angles`.
  void apply(float* x, int32_t n_tokens, int32_t n_heads, const float* cos, const float* sin) const;

 private:
  RopeType type_;
  int32_t n_rot_;
  int32_t n_embd_head_;
  float freq_scale_;
  float ext_factor_;
  float mscale_;
  float corr_low_ = 0, corr_high_ = 0;
  std::vector<float> inv_freq_;  // [n_rot / 2]: base^(-2i / n_rot) / freq_factor_i
};

}  // namespace prima::model
