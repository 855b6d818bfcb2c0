// Scalar reference dot products for every supported weight type against its activation format: the
// executable form of the canonical order of gemm_impl.h, which every SIMD kernel reproduces bit for bit.
//
// Each quantized block is unpacked into unsigned integers u with x = d * u + bias (32-blocks), or, for the
// K-quants, x = d * sc[j] * u - dm * mn[j] per sub-block j of 16 values; the integer sums are exact, and each
// block's value is formed by the same float operations, one at a time, and added to one accumulator in block
// order. Float weights keep 8 interleaved fma lanes and a fixed reduction tree. The kernels library is built
// with -ffp-contract=off: no multiply and add below may be fused unless written std::fma.
#include <cmath>
#include <cstring>

#include "kernels/gemm_impl.h"
#include "kernels/kquant_scales.h"
#include "tensor/blocks.h"

namespace prima::kernels::detail {
namespace {

// ---- 32-value blocks: u[32], x = d * u + bias -------------------------------------------------------------
struct Block32 {
  uint8_t u[32];
  float d, bias;
};

void nibbles(const uint8_t* qs, uint8_t* u) {
  for (int j = 0; j < 16; ++j) {
    u[j] = qs[j] & 15;
    u[j + 16] = qs[j] >> 4;
  }
}
void fifth_bit(const uint8_t* qh_bytes, uint8_t* u) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  for (int j = 0; j < 32; ++j) u[j] = static_cast<uint8_t>(u[j] | (((qh >> j) & 1) << 4));
}

Block32 unpack(const block_q4_0& b) {
  Block32 r;
  nibbles(b.qs, r.u);
  r.d = fp16_to_f32(b.d);
  r.bias = -8 * r.d;
  return r;
}
Block32 unpack(const block_q4_1& b) {
  Block32 r;
  nibbles(b.qs, r.u);
  r.d = fp16_to_f32(b.d);
  r.bias = fp16_to_f32(b.m);
  return r;
}
Block32 unpack(const block_q5_0& b) {
  Block32 r;
  nibbles(b.qs, r.u);
  fifth_bit(b.qh, r.u);
  r.d = fp16_to_f32(b.d);
  r.bias = -16 * r.d;
  return r;
}
Block32 unpack(const block_q5_1& b) {
  Block32 r;
  nibbles(b.qs, r.u);
  fifth_bit(b.qh, r.u);
  r.d = fp16_to_f32(b.d);
  r.bias = fp16_to_f32(b.m);
  return r;
}
Block32 unpack(const block_q8_0& b) {  // u = q + 128
  Block32 r;
  for (int j = 0; j < 32; ++j) r.u[j] = static_cast<uint8_t>(b.qs[j] + 128);
  r.d = fp16_to_f32(b.d);
  r.bias = -128 * r.d;
  return r;
}
Block32 unpack(const block_iq4_nl& b) {  // u = codebook value + 128
  Block32 r;
  nibbles(b.qs, r.u);
  for (int j = 0; j < 32; ++j) r.u[j] = static_cast<uint8_t>(kvalues_iq4nl[r.u[j]] + 128);
  r.d = fp16_to_f32(b.d);
  r.bias = -128 * r.d;
  return r;
}

template <class B>
float dot32(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const B*>(w);
  const auto* ag = static_cast<const block_q8_32x8*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / 32; ++i) {
    const Block32 k = unpack(wb[i]);
    const block_q8_32x8& g = ag[i / 8];
    const int b = static_cast<int>(i % 8);
    int isum = 0;
    for (int j = 0; j < 32; ++j) isum += k.u[j] * g.qs[32 * b + j];
    const float dd = k.d * g.d[b];
    const float v = dd * static_cast<float>(isum) + k.bias * g.s[b];
    sum = sum + v;
  }
  return sum;
}

// ---- K-quants: u[256], per sub-block of 16: x = d * sc[j] * u - dm * mn[j] ---------------------------------
struct BlockK {
  uint8_t u[QK_K];
  int sc[16], mn[16];
  float d, dm;
};

BlockK unpack(const block_q2_K& b) {
  BlockK r;
  for (int v = 0; v < QK_K; ++v) r.u[v] = (b.qs[32 * (v / 128) + v % 32] >> (2 * ((v % 128) / 32))) & 3;
  for (int j = 0; j < 16; ++j) {
    r.sc[j] = b.scales[j] & 15;
    r.mn[j] = b.scales[j] >> 4;
  }
  r.d = fp16_to_f32(b.d);
  r.dm = fp16_to_f32(b.dmin);
  return r;
}
BlockK unpack(const block_q3_K& b) {  // u = q + 4 in 0..7; the offset becomes a min of 4 * sc
  BlockK r;
  for (int v = 0; v < QK_K; ++v) {
    const int j = (v % 128) / 32;
    const int lo = (b.qs[32 * (v / 128) + v % 32] >> (2 * j)) & 3;
    const int hbit = (b.hmask[v % 32] >> (4 * (v / 128) + j)) & 1;
    r.u[v] = static_cast<uint8_t>(lo | (hbit << 2));
  }
  q3k_scales(b.scales, r.sc);
  for (int j = 0; j < 16; ++j) r.mn[j] = 4 * r.sc[j];
  r.d = r.dm = fp16_to_f32(b.d);
  return r;
}
template <class B>
BlockK unpack_q45_K(const B& b) {
  BlockK r;
  for (int v = 0; v < QK_K; ++v) {
    const int j = v / 32, l = v % 32;
    int u = (b.qs[32 * (j / 2) + l] >> (4 * (j % 2))) & 15;
    if constexpr (requires { b.qh; }) u |= ((b.qh[l] >> j) & 1) << 4;
    r.u[v] = static_cast<uint8_t>(u);
  }
  for (int j = 0; j < 8; ++j) {
    int sc, m;
    k4_scale_min(j, b.scales, &sc, &m);
    r.sc[2 * j] = r.sc[2 * j + 1] = sc;
    r.mn[2 * j] = r.mn[2 * j + 1] = m;
  }
  r.d = fp16_to_f32(b.d);
  r.dm = fp16_to_f32(b.dmin);
  return r;
}
BlockK unpack(const block_q4_K& b) { return unpack_q45_K(b); }
BlockK unpack(const block_q5_K& b) { return unpack_q45_K(b); }
BlockK unpack(const block_q6_K& b) {  // u = q + 32 in 0..63
  BlockK r;
  for (int v = 0; v < QK_K; ++v) {
    const int h = v / 128, k = (v % 128) / 32, l = v % 32;
    const int lo = (b.ql[64 * h + l + 32 * (k & 1)] >> (4 * (k >> 1))) & 15;
    const int hi = (b.qh[32 * h + l] >> (2 * k)) & 3;
    r.u[v] = static_cast<uint8_t>(lo | (hi << 4));
  }
  for (int j = 0; j < 16; ++j) {
    r.sc[j] = b.scales[j];
    r.mn[j] = 32 * r.sc[j];
  }
  r.d = r.dm = fp16_to_f32(b.d);
  return r;
}

template <class B>
float dotK(int64_t n, const void* w, const void* a) {
  const auto* wb = static_cast<const B*>(w);
  const auto* ab = static_cast<const block_q8_K*>(a);
  float sum = 0;
  for (int64_t i = 0; i < n / QK_K; ++i) {
    const BlockK k = unpack(wb[i]);
    int isum = 0, msum = 0;
    for (int j = 0; j < 16; ++j) {
      int s = 0;
      for (int l = 0; l < 16; ++l) s += k.u[16 * j + l] * ab[i].qs[16 * j + l];
      isum += k.sc[j] * s;
      msum += k.mn[j] * ab[i].bsums[j];
    }
    const float dd = k.d * ab[i].d, dmd = k.dm * ab[i].d;
    const float v = dd * static_cast<float>(isum) - dmd * static_cast<float>(msum);
    sum = sum + v;
  }
  return sum;
}

// ---- float weights against f32 activations ----------------------------------------------------------------
float to_f32(float v) { return v; }
float to_f32_f16(fp16_t v) { return fp16_to_f32(v); }
float to_f32_bf16(bf16_t v) { return bf16_to_f32(v); }

// 8 lanes, zero-padded, fma; then the tree 8 -> 4 -> 2 -> 1 (gemm_impl.h).
template <class T, float (*conv)(T)>
float dot_float(int64_t n, const void* w, const void* a) {
  const auto* wv = static_cast<const T*>(w);
  const auto* av = static_cast<const float*>(a);
  float l[8] = {};
  for (int64_t i0 = 0; i0 < n; i0 += 8) {
    for (int j = 0; j < 8; ++j) {
      const int64_t i = i0 + j;
      const float wi = i < n ? conv(wv[i]) : 0.0f, ai = i < n ? av[i] : 0.0f;
      l[j] = std::fma(wi, ai, l[j]);
    }
  }
  for (int width = 4; width >= 1; width /= 2)
    for (int j = 0; j < width; ++j) l[j] = l[j] + l[j + width];
  return l[0];
}

template <float (*dot)(int64_t, const void*, const void*)>
void tile(int64_t n, const void* w, size_t w_stride, int nr, const void* a, size_t a_stride, int nc, float* y,
          size_t ldy) {
  for (int c = 0; c < nc; ++c)
    for (int r = 0; r < nr; ++r)
      y[c * ldy + r] = dot(n, static_cast<const uint8_t*>(w) + r * w_stride, static_cast<const uint8_t*>(a) + c * a_stride);
}

IsaKernels make_table() {
  IsaKernels k{};
  auto set = [&](ggml_type t, TileFn f) { k.tile[static_cast<int>(t)] = f; };
  set(ggml_type::F32, tile<dot_float<float, to_f32>>);
  set(ggml_type::F16, tile<dot_float<fp16_t, to_f32_f16>>);
  set(ggml_type::BF16, tile<dot_float<bf16_t, to_f32_bf16>>);
  set(ggml_type::Q4_0, tile<dot32<block_q4_0>>);
  set(ggml_type::Q4_1, tile<dot32<block_q4_1>>);
  set(ggml_type::Q5_0, tile<dot32<block_q5_0>>);
  set(ggml_type::Q5_1, tile<dot32<block_q5_1>>);
  set(ggml_type::Q8_0, tile<dot32<block_q8_0>>);
  set(ggml_type::IQ4_NL, tile<dot32<block_iq4_nl>>);
  set(ggml_type::Q2_K, tile<dotK<block_q2_K>>);
  set(ggml_type::Q3_K, tile<dotK<block_q3_K>>);
  set(ggml_type::Q4_K, tile<dotK<block_q4_K>>);
  set(ggml_type::Q5_K, tile<dotK<block_q5_K>>);
  set(ggml_type::Q6_K, tile<dotK<block_q6_K>>);
  k.quantize_q8_32 = quantize_act_q8_32_ref;
  k.quantize_q8_1 = quantize_act_q8_1_ref;
  k.quantize_q8_K = quantize_act_q8_K_ref;
  return k;
}

}  // namespace

const IsaKernels* scalar_kernels() {
  static const IsaKernels k = make_table();
  return &k;
}

}  // namespace prima::kernels::detail
