// Reference quantizers: round to nearest with one good scale (and min) per block or sub-block. Simpler than
// llama.cpp's error-minimising searches; the blocks are valid and the error is bounded by half a step.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "kernels/kquant_scales.h"
#include "kernels/quant.h"
#include "tensor/blocks.h"

namespace prima::kernels {
namespace {

int nearest(float x) { return static_cast<int>(std::lrintf(x)); }
int clampi(int v, int lo, int hi) { return std::min(hi, std::max(lo, v)); }
float f16_round(float x) { return fp16_to_f32(f32_to_fp16(x)); }  // what a stored f16 scale will be

// The value of largest magnitude (keeping its sign) of x[0..n).
float signed_absmax(const float* x, int n) {
  float m = 0;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > std::fabs(m)) m = x[i];
  return m;
}

// Symmetric b-bit blocks (Q4_0, Q5_0): the extreme value maps to -2^(b-1), x = d * (q - 2^(b-1)).
template <class B>
void quant_sym(const float* x, B* y, int64_t nb, int bits) {
  const int off = 1 << (bits - 1), qmax = (1 << bits) - 1;
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    const float d = f16_round(signed_absmax(x, 32) / -off);
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    uint32_t qh = 0;
    std::memset(y[i].qs, 0, 16);
    for (int j = 0; j < 32; ++j) {
      const int q = clampi(nearest(x[j] * id) + off, 0, qmax);
      y[i].qs[j % 16] = static_cast<uint8_t>(y[i].qs[j % 16] | ((q & 15) << (4 * (j / 16))));
      qh |= static_cast<uint32_t>(q >> 4) << j;
    }
    if constexpr (requires { y[i].qh; }) std::memcpy(y[i].qh, &qh, 4);
  }
}

// Asymmetric b-bit blocks (Q4_1, Q5_1): x = d * q + m with m = min, d = (max - min) / (2^b - 1).
template <class B>
void quant_asym(const float* x, B* y, int64_t nb, int bits) {
  const int qmax = (1 << bits) - 1;
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    const float lo = f16_round(*std::min_element(x, x + 32)), hi = *std::max_element(x, x + 32);
    const float d = f16_round((hi - lo) / qmax);
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    y[i].m = f32_to_fp16(lo);
    uint32_t qh = 0;
    std::memset(y[i].qs, 0, 16);
    for (int j = 0; j < 32; ++j) {
      const int q = clampi(nearest((x[j] - lo) * id), 0, qmax);
      y[i].qs[j % 16] = static_cast<uint8_t>(y[i].qs[j % 16] | ((q & 15) << (4 * (j / 16))));
      qh |= static_cast<uint32_t>(q >> 4) << j;
    }
    if constexpr (requires { y[i].qh; }) std::memcpy(y[i].qh, &qh, 4);
  }
}

void quant_q8_0(const float* x, block_q8_0* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    const float d = f16_round(std::fabs(signed_absmax(x, 32)) / 127);
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    for (int j = 0; j < 32; ++j) y[i].qs[j] = static_cast<int8_t>(clampi(nearest(x[j] * id), -127, 127));
  }
}

void quant_iq4_nl(const float* x, block_iq4_nl* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    const float d = f16_round(signed_absmax(x, 32) / kvalues_iq4nl[0]);  // the extreme maps to -127
    const float id = d != 0 ? 1.0f / d : 0.0f;
    y[i].d = f32_to_fp16(d);
    std::memset(y[i].qs, 0, 16);
    for (int j = 0; j < 32; ++j) {
      const float v = x[j] * id;
      int best = 0;
      for (int k = 1; k < 16; ++k)
        if (std::fabs(v - kvalues_iq4nl[k]) < std::fabs(v - kvalues_iq4nl[best])) best = k;
      y[i].qs[j % 16] = static_cast<uint8_t>(y[i].qs[j % 16] | (best << (4 * (j / 16))));
    }
  }
}

// K-quants with a min (Q2_K, Q4_K, Q5_K): per sub-block of `sub` values x ≈ d*sc*q - dmin*m, q in 0..qmax,
// sc and m unsigned with `scale_bits`. Returns the quantized q (one per value) and the integer scales/mins.
void kquant_min(const float* x, int n_sub, int sub, int qmax, int smax, float* d_out, float* dmin_out,
                int* sc, int* mn, uint8_t* q) {
  float scale[16], mins[16], max_scale = 0, max_min = 0;
  for (int j = 0; j < n_sub; ++j) {
    const float* xs = x + j * sub;
    const float lo = std::min(0.0f, *std::min_element(xs, xs + sub)), hi = *std::max_element(xs, xs + sub);
    scale[j] = (hi - lo) / qmax;
    mins[j] = -lo;
    max_scale = std::max(max_scale, scale[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float d = f16_round(max_scale / smax), dmin = f16_round(max_min / smax);
  *d_out = d;
  *dmin_out = dmin;
  for (int j = 0; j < n_sub; ++j) {
    sc[j] = d > 0 ? clampi(nearest(scale[j] / d), 0, smax) : 0;
    mn[j] = dmin > 0 ? clampi(nearest(mins[j] / dmin), 0, smax) : 0;
    const float ds = d * sc[j], dm = dmin * mn[j];
    for (int l = 0; l < sub; ++l) {
      const float v = x[j * sub + l];
      q[j * sub + l] = static_cast<uint8_t>(ds > 0 ? clampi(nearest((v + dm) / ds), 0, qmax) : 0);
    }
  }
}

// Symmetric K-quants (Q3_K, Q6_K): 16 sub-blocks of 16, x ≈ d * sc * (q - off), q in 0..2*off-1, sc signed
// within +-smax. The extreme value of each sub-block maps to -off.
void kquant_sym(const float* x, int off, int smax, float* d_out, int* sc, uint8_t* q) {
  float scale[16], max_abs = 0;
  for (int j = 0; j < 16; ++j) {
    scale[j] = signed_absmax(x + 16 * j, 16) / -off;
    max_abs = std::max(max_abs, std::fabs(scale[j]));
  }
  const float d = f16_round(max_abs / smax);
  *d_out = d;
  for (int j = 0; j < 16; ++j) {
    sc[j] = d > 0 ? clampi(nearest(scale[j] / d), -smax, smax) : 0;
    const float ds = d * sc[j];
    for (int l = 0; l < 16; ++l)
      q[16 * j + l] = static_cast<uint8_t>(ds != 0 ? clampi(nearest(x[16 * j + l] / ds) + off, 0, 2 * off - 1) : off);
  }
}

void quant_q2_K(const float* x, block_q2_K* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK_K) {
    float d, dmin;
    int sc[16], mn[16];
    uint8_t q[QK_K];
    kquant_min(x, 16, 16, 3, 15, &d, &dmin, sc, mn, q);
    y[i].d = f32_to_fp16(d);
    y[i].dmin = f32_to_fp16(dmin);
    for (int j = 0; j < 16; ++j) y[i].scales[j] = static_cast<uint8_t>(sc[j] | (mn[j] << 4));
    std::memset(y[i].qs, 0, sizeof(y[i].qs));
    for (int v = 0; v < QK_K; ++v) {
      uint8_t& b = y[i].qs[32 * (v / 128) + v % 32];
      b = static_cast<uint8_t>(b | (q[v] << (2 * ((v % 128) / 32))));
    }
  }
}

void quant_q3_K(const float* x, block_q3_K* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK_K) {
    float d;
    int sc[16];
    uint8_t q[QK_K];
    kquant_sym(x, 4, 31, &d, sc, q);
    y[i].d = f32_to_fp16(d);
    int l[16];
    for (int j = 0; j < 16; ++j) l[j] = sc[j] + 32;
    detail::q3k_pack_scales(l, y[i].scales);
    std::memset(y[i].qs, 0, sizeof(y[i].qs));
    std::memset(y[i].hmask, 0, sizeof(y[i].hmask));
    for (int v = 0; v < QK_K; ++v) {
      const int j = (v % 128) / 32;
      uint8_t& b = y[i].qs[32 * (v / 128) + v % 32];
      b = static_cast<uint8_t>(b | ((q[v] & 3) << (2 * j)));
      y[i].hmask[v % 32] = static_cast<uint8_t>(y[i].hmask[v % 32] | ((q[v] >> 2) << (4 * (v / 128) + j)));
    }
  }
}

template <class B>
void quant_q45_K(const float* x, B* y, int64_t nb, int bits) {
  for (int64_t i = 0; i < nb; ++i, x += QK_K) {
    float d, dmin;
    int sc[8], mn[8];
    uint8_t q[QK_K];
    kquant_min(x, 8, 32, (1 << bits) - 1, 63, &d, &dmin, sc, mn, q);
    y[i].d = f32_to_fp16(d);
    y[i].dmin = f32_to_fp16(dmin);
    uint8_t sc8[8], mn8[8];
    for (int j = 0; j < 8; ++j) {
      sc8[j] = static_cast<uint8_t>(sc[j]);
      mn8[j] = static_cast<uint8_t>(mn[j]);
    }
    detail::k4_pack_scales(sc8, mn8, y[i].scales);
    std::memset(y[i].qs, 0, sizeof(y[i].qs));
    if constexpr (requires { y[i].qh; }) std::memset(y[i].qh, 0, sizeof(y[i].qh));
    for (int v = 0; v < QK_K; ++v) {  // sub-block j = v/32: nibble j%2 of qs[32*(j/2) + l], bit j of qh[l]
      const int j = v / 32, l = v % 32;
      uint8_t& b = y[i].qs[32 * (j / 2) + l];
      b = static_cast<uint8_t>(b | ((q[v] & 15) << (4 * (j % 2))));
      if constexpr (requires { y[i].qh; }) y[i].qh[l] = static_cast<uint8_t>(y[i].qh[l] | ((q[v] >> 4) << j));
    }
  }
}

void quant_q6_K(const float* x, block_q6_K* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, x += QK_K) {
    float d;
    int sc[16];
    uint8_t q[QK_K];
    kquant_sym(x, 32, 127, &d, sc, q);
    y[i].d = f32_to_fp16(d);
    for (int j = 0; j < 16; ++j) y[i].scales[j] = static_cast<int8_t>(sc[j]);
    std::memset(y[i].ql, 0, sizeof(y[i].ql));
    std::memset(y[i].qh, 0, sizeof(y[i].qh));
    for (int v = 0; v < QK_K; ++v) {  // half h, quarter k, l (see dequantize.cpp)
      const int h = v / 128, k = (v % 128) / 32, l = v % 32;
      uint8_t& lo = y[i].ql[64 * h + l + 32 * (k & 1)];
      lo = static_cast<uint8_t>(lo | ((q[v] & 15) << (4 * (k >> 1))));
      uint8_t& hi = y[i].qh[32 * h + l];
      hi = static_cast<uint8_t>(hi | ((q[v] >> 4) << (2 * k)));
    }
  }
}

}  // namespace

void quantize_row(ggml_type t, const float* src, void* dst, int64_t n) {
  const int64_t nb = n / traits(t).block_size;
  switch (t) {
    case ggml_type::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case ggml_type::F16:
      for (int64_t i = 0; i < n; ++i) static_cast<fp16_t*>(dst)[i] = f32_to_fp16(src[i]);
      return;
    case ggml_type::BF16:
      for (int64_t i = 0; i < n; ++i) static_cast<bf16_t*>(dst)[i] = f32_to_bf16(src[i]);
      return;
    case ggml_type::Q4_0: return quant_sym(src, static_cast<block_q4_0*>(dst), nb, 4);
    case ggml_type::Q5_0: return quant_sym(src, static_cast<block_q5_0*>(dst), nb, 5);
    case ggml_type::Q4_1: return quant_asym(src, static_cast<block_q4_1*>(dst), nb, 4);
    case ggml_type::Q5_1: return quant_asym(src, static_cast<block_q5_1*>(dst), nb, 5);
    case ggml_type::Q8_0: return quant_q8_0(src, static_cast<block_q8_0*>(dst), nb);
    case ggml_type::IQ4_NL: return quant_iq4_nl(src, static_cast<block_iq4_nl*>(dst), nb);
    case ggml_type::Q2_K: return quant_q2_K(src, static_cast<block_q2_K*>(dst), nb);
    case ggml_type::Q3_K: return quant_q3_K(src, static_cast<block_q3_K*>(dst), nb);
    case ggml_type::Q4_K: return quant_q45_K(src, static_cast<block_q4_K*>(dst), nb, 4);
    case ggml_type::Q5_K: return quant_q45_K(src, static_cast<block_q5_K*>(dst), nb, 5);
    case ggml_type::Q6_K: return quant_q6_K(src, static_cast<block_q6_K*>(dst), nb);
    default: break;
  }
  fail("quantize_row: type {} is not supported", type_name(t));
}

}  // namespace prima::kernels
