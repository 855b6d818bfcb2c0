// Helpers shared by the kernel tests: deterministic data, error measures, the ISAs to test.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/isa.h"
#include "tensor/types.h"

namespace prima::kernels::test {

inline std::vector<float> random_floats(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// sqrt(mean((a-r)^2)) / sqrt(mean(r^2)), as the fixtures README defines it.
inline double rel_rms(const float* a, const float* r, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    num += (double(a[i]) - r[i]) * (double(a[i]) - r[i]);
    den += double(r[i]) * r[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

inline std::vector<Isa> available_isas() {
  std::vector<Isa> v;
  for (Isa i : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::neon})
    if (isa_available(i)) v.push_back(i);
  return v;
}

// Restores the active ISA when a test ends.
struct IsaGuard {
  Isa saved = active_isa();
  ~IsaGuard() { set_isa(saved); }
};

// Worst-case relative RMS error of quantize -> dequantize on N(0,1) data (a bound with margin, ours).
inline double roundtrip_bound(ggml_type t) {
  switch (t) {
    case ggml_type::F32: return 0;
    case ggml_type::F16: return 1e-3;
    case ggml_type::BF16: return 5e-3;
    case ggml_type::Q8_0: return 0.01;
    case ggml_type::Q6_K: return 0.03;
    case ggml_type::Q5_0:
    case ggml_type::Q5_1:
    case ggml_type::Q5_K: return 0.06;
    case ggml_type::Q4_0:
    case ggml_type::Q4_1:
    case ggml_type::Q4_K:
    case ggml_type::IQ4_NL: return 0.12;
    case ggml_type::Q3_K: return 0.25;
    case ggml_type::Q2_K: return 0.45;
    default: return 1;
  }
}

}  // namespace prima::kernels::test
