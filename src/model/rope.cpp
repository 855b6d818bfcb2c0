#include "model/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace prima::model {
namespace {

// YaRN: the dimension whose wavelength makes n_rot_turns full turns over the original context.
float yarn_corr_dim(int n_rot, int n_ctx_orig, float n_rot_turns, float base) {
  return static_cast<float>(n_rot * std::log(n_ctx_orig / (n_rot_turns * 2.0 * std::numbers::pi)) /
                            (2.0 * std::log(static_cast<double>(base))));
}

// 1 below `low`, 0 above `high`, linear in between (over pair index i).
float yarn_ramp(float low, float high, int i) {
  const float y = (static_cast<float>(i) - low) / std::max(0.001f, high - low);
  return 1.0f - std::min(1.0f, std::max(0.0f, y));
}

}  // namespace

Rope::Rope(const HParams& hp, const float* freq_factors)
    : type_(hp.arch.rope_type),
      n_rot_(hp.n_rot),
      n_embd_head_(hp.n_embd_head),
      freq_scale_(hp.rope_freq_scale),
      ext_factor_(hp.yarn_ext_factor),
      mscale_(hp.yarn_attn_factor) {
  inv_freq_.resize(static_cast<size_t>(n_rot_ / 2));
  for (int i = 0; i < n_rot_ / 2; ++i) {
    const double f = std::pow(static_cast<double>(hp.rope_freq_base), -2.0 * i / n_rot_);
    inv_freq_[static_cast<size_t>(i)] = static_cast<float>(freq_factors ? f / freq_factors[i] : f);
  }
  if (ext_factor_ != 0.0f) {
    const float lo = std::floor(yarn_corr_dim(n_rot_, hp.n_ctx_orig, hp.yarn_beta_fast, hp.rope_freq_base));
    const float hi = std::ceil(yarn_corr_dim(n_rot_, hp.n_ctx_orig, hp.yarn_beta_slow, hp.rope_freq_base));
    corr_low_ = std::max(0.0f, lo);
    corr_high_ = std::min(static_cast<float>(n_rot_ - 1), hi);
    mscale_ *= 1.0f + 0.1f * std::log(1.0f / freq_scale_);
  }
}

void Rope::angles(std::span<const int32_t> pos, float* cos, float* sin) const {
  const int n_pairs = n_rot_ / 2;
  for (size_t t = 0; t < pos.size(); ++t) {
    for (int i = 0; i < n_pairs; ++i) {
      const float theta_extrap = static_cast<float>(pos[t]) * inv_freq_[static_cast<size_t>(i)];
      const float theta_interp = freq_scale_ * theta_extrap;
      float theta = theta_interp;
      if (ext_factor_ != 0.0f) {
        const float mix = yarn_ramp(corr_low_, corr_high_, i) * ext_factor_;
        theta = theta_interp * (1.0f - mix) + theta_extrap * mix;
      }
      cos[t * n_pairs + i] = std::cos(theta) * mscale_;
      sin[t * n_pairs + i] = std::sin(theta) * mscale_;
    }
  }
}

void Rope::apply(float* x, int32_t n_tokens, int32_t n_heads, const float* cos, const float* sin) const {
  const int n_pairs = n_rot_ / 2;
  for (int32_t t = 0; t < n_tokens; ++t) {
    const float* c = cos + static_cast<size_t>(t) * n_pairs;
    const float* s = sin + static_cast<size_t>(t) * n_pairs;
    for (int32_t h = 0; h < n_heads; ++h) {
      float* v = x + (static_cast<size_t>(t) * n_heads + h) * n_embd_head_;
      if (type_ == RopeType::norm) {
        for (int i = 0; i < n_pairs; ++i) {
          const float x0 = v[2 * i], x1 = v[2 * i + 1];
          v[2 * i] = x0 * c[i] - x1 * s[i];
          v[2 * i + 1] = x0 * s[i] + x1 * c[i];
        }
      } else {
        for (int i = 0; i < n_pairs; ++i) {
          const float x0 = v[i], x1 = v[i + n_pairs];
          v[i] = x0 * c[i] - x1 * s[i];
          v[i + n_pairs] = x0 * s[i] + x1 * c[i];
        }
      }
    }
  }
}

}  // namespace prima::model
