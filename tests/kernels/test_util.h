// Helpers shared by the kernel tests: deterministic data, error measures, the ISAs to test.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/gemm_impl.h"
#include "kernels/isa.h"
#include "tensor/blocks.h"
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

// Bit-for-bit equality of two float arrays (NaN == NaN, +0 != -0): the first difference is reported.
inline ::testing::AssertionResult same_bits(const float* a, const float* b, size_t n, const std::string& where) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t ua, ub;
    std::memcpy(&ua, a + i, 4);
    std::memcpy(&ub, b + i, 4);
    if (ua != ub) {
      char bits[64];
      std::snprintf(bits, sizeof bits, " (0x%08x vs 0x%08x)", ua, ub);
      return ::testing::AssertionFailure() << where << ": element " << i << " of " << n << " differs: " << a[i]
                                           << " vs " << b[i] << bits;
    }
  }
  return ::testing::AssertionSuccess();
}
inline ::testing::AssertionResult same_bits(const std::vector<float>& a, const std::vector<float>& b,
                                            const std::string& where) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << where << ": sizes differ";
  return same_bits(a.data(), b.data(), a.size(), where);
}

inline std::vector<Isa> available_isas() {
  std::vector<Isa> v;
  for (Isa i : kAllIsas)
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

// x as the kernels see it: quantized to the weight type's activation format (reference quantizer) and
// decoded again. x: [n_tok][n_in].
inline std::vector<float> act_roundtrip(ggml_type t, const std::vector<float>& x, int64_t n_in) {
  using namespace detail;
  const ActFormat f = act_format(t);
  if (f == ActFormat::f32) return x;
  const int64_t n_tok = static_cast<int64_t>(x.size()) / n_in;
  std::vector<float> out(x.size());
  std::vector<uint8_t> buf(act_row_bytes(f, n_in));
  for (int64_t r = 0; r < n_tok; ++r) {
    float* o = out.data() + r * n_in;
    if (f == ActFormat::q8_32 || f == ActFormat::q8_1) {
      (f == ActFormat::q8_32 ? quantize_act_q8_32_ref : quantize_act_q8_1_ref)(x.data() + r * n_in, buf.data(), n_in);
      const auto* g = reinterpret_cast<const block_q8_32x8*>(buf.data());
      for (int64_t i = 0; i < n_in; ++i) o[i] = g[i / 256].d[i / 32 % 8] * g[i / 256].qs[i % 256];
    } else {
      quantize_act_q8_K_ref(x.data() + r * n_in, buf.data(), n_in);
      const auto* b = reinterpret_cast<const block_q8_K*>(buf.data());
      for (int64_t i = 0; i < n_in; ++i) o[i] = b[i / QK_K].d * b[i / QK_K].qs[i % QK_K];
    }
  }
  return out;
}

}  // namespace prima::kernels::test
