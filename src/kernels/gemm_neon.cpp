// NEON kernel table (AArch64, plain ARMv8-A: no dotprod needed), bit-identical to the scalar reference
// (gemm_scalar.cpp, act.cpp) because it follows the canonical order of gemm_impl.h:
//   - 8-bit products with vmull_s8 / vmlal_high_s8 (two products summed in 16 bits, which cannot overflow:
//     |w| <= 128, |q| <= 127) and vpaddl / vpadal into 32-bit lanes: the integer block sums are exact, so their
//     order is free;
//   - the per-block float operations are the reference's own scalar expressions, one rounding each (the library
//     is compiled with -ffp-contract=off);
//   - float weights use the 8 fma lanes of neon_l8.inl.
// NEON is part of the AArch64 baseline, so this file is compiled with the same flags as the rest of the library
// (unlike the x86 tables, it may share inline functions such as fp16_to_f32 with baseline code).
#include "kernels/gemm_impl.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>

#include <algorithm>
#include <cstring>

#include "core/fp16.h"
#include "kernels/kquant_scales.h"
#include "tensor/blocks.h"

namespace prima::kernels::detail {
namespace {
#include "kernels/neon_l8.inl"

// A tile keeps one float accumulator per token of the row it works on; longer token ranges go in chunks.
constexpr int kTokChunk = 64;

uint8x16_t shr(uint8x16_t v, int n) { return vshlq_u8(v, vdupq_n_s8(static_cast<int8_t>(-n))); }

// ---- 32-value blocks -------------------------------------------------------------------------------------
// The reference's u[32] with x = d*u + bias, held as signed bytes w = u - offset (offset 0 for the 4/5-bit
// types, whose u fit in a signed byte; 128 for Q8_0 and IQ4_NL): isum = Σ w*q + offset * Σ q, the same integer.
struct Block32 {
  int8x16_t w0, w1;  // values 0-15, 16-31
  int offset;
  float d, bias;
};

// Q4 layout: low nibbles are values 0-15, high nibbles 16-31.
void nibbles(const uint8_t* qs, uint8x16_t* lo, uint8x16_t* hi) {
  const uint8x16_t v = vld1q_u8(qs);
  *lo = vandq_u8(v, vdupq_n_u8(15));
  *hi = vshrq_n_u8(v, 4);
}
// Bit j of the 32-bit qh is bit 4 of value j: spread byte j/8 over 8 lanes, test bit j%8.
void fifth_bit(const uint8_t* qh, uint8x16_t* lo, uint8x16_t* hi) {
  uint32_t bits;
  std::memcpy(&bits, qh, 4);
  const uint8x16_t bytes = vreinterpretq_u8_u32(vdupq_n_u32(bits));
  static const uint8_t kIdxLo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
  static const uint8_t kIdxHi[16] = {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
  static const uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t bit = vld1q_u8(kBit), sixteen = vdupq_n_u8(16);
  *lo = vorrq_u8(*lo, vandq_u8(vtstq_u8(vqtbl1q_u8(bytes, vld1q_u8(kIdxLo)), bit), sixteen));
  *hi = vorrq_u8(*hi, vandq_u8(vtstq_u8(vqtbl1q_u8(bytes, vld1q_u8(kIdxHi)), bit), sixteen));
}
Block32 small_block(uint8x16_t lo, uint8x16_t hi, float d, float bias) {
  return {vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(hi), 0, d, bias};
}

Block32 unpack(const block_q4_0& b) {
  uint8x16_t lo, hi;
  nibbles(b.qs, &lo, &hi);
  const float d = fp16_to_f32(b.d);
  return small_block(lo, hi, d, -8 * d);
}
Block32 unpack(const block_q4_1& b) {
  uint8x16_t lo, hi;
  nibbles(b.qs, &lo, &hi);
  return small_block(lo, hi, fp16_to_f32(b.d), fp16_to_f32(b.m));
}
Block32 unpack(const block_q5_0& b) {
  uint8x16_t lo, hi;
  nibbles(b.qs, &lo, &hi);
  fifth_bit(b.qh, &lo, &hi);
  const float d = fp16_to_f32(b.d);
  return small_block(lo, hi, d, -16 * d);
}
Block32 unpack(const block_q5_1& b) {
  uint8x16_t lo, hi;
  nibbles(b.qs, &lo, &hi);
  fifth_bit(b.qh, &lo, &hi);
  return small_block(lo, hi, fp16_to_f32(b.d), fp16_to_f32(b.m));
}
Block32 unpack(const block_q8_0& b) {  // w = q, u = q + 128
  const float d = fp16_to_f32(b.d);
  return {vld1q_s8(b.qs), vld1q_s8(b.qs + 16), 128, d, -128 * d};
}
Block32 unpack(const block_iq4_nl& b) {  // w = codebook value, u = w + 128
  uint8x16_t lo, hi;
  nibbles(b.qs, &lo, &hi);
  const int8x16_t book = vld1q_s8(kvalues_iq4nl);
  const float d = fp16_to_f32(b.d);
  return {vqtbl1q_s8(book, lo), vqtbl1q_s8(book, hi), 128, d, -128 * d};
}

// Σ w[j] * q[j] over 32 values, exact.
int dot32_i8(int8x16_t w0, int8x16_t w1, const int8_t* q) {
  const int8x16_t q0 = vld1q_s8(q), q1 = vld1q_s8(q + 16);
  const int16x8_t p0 = vmlal_high_s8(vmull_s8(vget_low_s8(w0), vget_low_s8(q0)), w0, q0);
  const int16x8_t p1 = vmlal_high_s8(vmull_s8(vget_low_s8(w1), vget_low_s8(q1)), w1, q1);
  return vaddvq_s32(vpadalq_s16(vpaddlq_s16(p0), p1));
}

// Reference: dot32 in gemm_scalar.cpp. Each weight block is unpacked once per chunk of tokens.
template <class B>
void tile_q32(int64_t n, const void* w, size_t w_stride, int nr, const void* a, size_t a_stride, int nc, float* y,
              size_t ldy) {
  const int64_t nb = n / 32;
  for (int c0 = 0; c0 < nc; c0 += kTokChunk) {
    const int cn = std::min(kTokChunk, nc - c0);
    const auto* a0 = static_cast<const uint8_t*>(a) + c0 * a_stride;
    for (int r = 0; r < nr; ++r) {
      const auto* wb = reinterpret_cast<const B*>(static_cast<const uint8_t*>(w) + r * w_stride);
      float sum[kTokChunk] = {};
      for (int64_t i = 0; i < nb; ++i) {
        const Block32 k = unpack(wb[i]);
        const int b = static_cast<int>(i % 8);
        for (int c = 0; c < cn; ++c) {
          const block_q8_32x8& g = reinterpret_cast<const block_q8_32x8*>(a0 + c * a_stride)[i / 8];
          const int isum = dot32_i8(k.w0, k.w1, g.qs + 32 * b) + k.offset * g.sum[b];
          const float dd = k.d * g.d[b];
          const float v = dd * static_cast<float>(isum) + k.bias * g.s[b];
          sum[c] = sum[c] + v;
        }
      }
      for (int c = 0; c < cn; ++c) y[(c0 + c) * ldy + r] = sum[c];
    }
  }
}

// ---- K-quants --------------------------------------------------------------------------------------------
// The reference's u[256] (all below 64, so they are also valid signed bytes), per sub-block of 16 the scale
// sc and min mn, and d, dm.
struct BlockK {
  alignas(16) uint8_t u[QK_K];
  alignas(16) int32_t sc[16];
  alignas(16) int16_t mn[16];
  float d, dm;
};

// Values 128h + 32s + l (l < 32) are (qs[32h + l] >> 2s) & 3: Q2_K's and Q3_K's low bits.
void two_bit_planes(const uint8_t* qs, uint8_t* u) {
  const uint8x16_t three = vdupq_n_u8(3);
  for (int h = 0; h < 2; ++h) {
    const uint8x16_t q0 = vld1q_u8(qs + 32 * h), q1 = vld1q_u8(qs + 32 * h + 16);
    for (int s = 0; s < 4; ++s) {
      vst1q_u8(u + 128 * h + 32 * s, vandq_u8(shr(q0, 2 * s), three));
      vst1q_u8(u + 128 * h + 32 * s + 16, vandq_u8(shr(q1, 2 * s), three));
    }
  }
}

void unpack(const block_q2_K& b, BlockK& k) {
  two_bit_planes(b.qs, k.u);
  for (int j = 0; j < 16; ++j) {
    k.sc[j] = b.scales[j] & 15;
    k.mn[j] = static_cast<int16_t>(b.scales[j] >> 4);
  }
  k.d = fp16_to_f32(b.d);
  k.dm = fp16_to_f32(b.dmin);
}
void unpack(const block_q3_K& b, BlockK& k) {  // u = q + 4: bit 2 from hmask; the offset is a min of 4 * sc
  two_bit_planes(b.qs, k.u);
  const uint8x16_t hm[2] = {vld1q_u8(b.hmask), vld1q_u8(b.hmask + 16)}, one = vdupq_n_u8(1);
  for (int h = 0; h < 2; ++h)
    for (int s = 0; s < 4; ++s)
      for (int half = 0; half < 2; ++half) {
        uint8_t* p = k.u + 128 * h + 32 * s + 16 * half;
        vst1q_u8(p, vorrq_u8(vld1q_u8(p), vshlq_n_u8(vandq_u8(shr(hm[half], 4 * h + s), one), 2)));
      }
  int sc[16];
  q3k_scales(b.scales, sc);
  for (int j = 0; j < 16; ++j) {
    k.sc[j] = sc[j];
    k.mn[j] = static_cast<int16_t>(4 * sc[j]);
  }
  k.d = k.dm = fp16_to_f32(b.d);
}
// Q4_K / Q5_K: value 32j + l is nibble j%2 of qs[32(j/2) + l], plus (Q5_K) bit j of qh[l] as bit 4.
template <class B>
void unpack_q45_K(const B& b, BlockK& k) {
  for (int p = 0; p < 4; ++p)
    for (int half = 0; half < 2; ++half) {
      const uint8x16_t q = vld1q_u8(b.qs + 32 * p + 16 * half);
      uint8x16_t lo = vandq_u8(q, vdupq_n_u8(15)), hi = vshrq_n_u8(q, 4);
      if constexpr (requires { b.qh; }) {
        const uint8x16_t qh = vld1q_u8(b.qh + 16 * half), one = vdupq_n_u8(1);
        lo = vorrq_u8(lo, vshlq_n_u8(vandq_u8(shr(qh, 2 * p), one), 4));
        hi = vorrq_u8(hi, vshlq_n_u8(vandq_u8(shr(qh, 2 * p + 1), one), 4));
      }
      vst1q_u8(k.u + 64 * p + 16 * half, lo);
      vst1q_u8(k.u + 64 * p + 32 + 16 * half, hi);
    }
  for (int j = 0; j < 8; ++j) {
    int sc, m;
    k4_scale_min(j, b.scales, &sc, &m);
    k.sc[2 * j] = k.sc[2 * j + 1] = sc;
    k.mn[2 * j] = k.mn[2 * j + 1] = static_cast<int16_t>(m);
  }
  k.d = fp16_to_f32(b.d);
  k.dm = fp16_to_f32(b.dmin);
}
void unpack(const block_q4_K& b, BlockK& k) { unpack_q45_K(b, k); }
void unpack(const block_q5_K& b, BlockK& k) { unpack_q45_K(b, k); }
// Q6_K, u = q + 32: value 128h + 32s + l has low nibble s/2 of ql[64h + 32(s%2) + l], bits 4-5 from
// (qh[32h + l] >> 2s) & 3.
void unpack(const block_q6_K& b, BlockK& k) {
  const uint8x16_t fifteen = vdupq_n_u8(15), three = vdupq_n_u8(3);
  for (int h = 0; h < 2; ++h)
    for (int s = 0; s < 4; ++s)
      for (int half = 0; half < 2; ++half) {
        const uint8x16_t ql = vld1q_u8(b.ql + 64 * h + 32 * (s % 2) + 16 * half);
        const uint8x16_t qh = vld1q_u8(b.qh + 32 * h + 16 * half);
        const uint8x16_t lo = s < 2 ? vandq_u8(ql, fifteen) : vshrq_n_u8(ql, 4);
        vst1q_u8(k.u + 128 * h + 32 * s + 16 * half, vorrq_u8(lo, vshlq_n_u8(vandq_u8(shr(qh, 2 * s), three), 4)));
      }
  for (int j = 0; j < 16; ++j) {
    k.sc[j] = b.scales[j];
    k.mn[j] = static_cast<int16_t>(32 * b.scales[j]);
  }
  k.d = k.dm = fp16_to_f32(b.d);
}

// isum = Σ_j sc[j] * Σ_l u[16j + l] * qs[16j + l] and msum = Σ_j mn[j] * bsums[j], exact (u*q <= 63*127: two
// products fit in 16 bits).
void dotK_i32(const BlockK& k, const block_q8_K& a, int* isum, int* msum) {
  int32x4_t acc = vdupq_n_s32(0);
  for (int j4 = 0; j4 < 4; ++j4) {
    int32x4_t s[4];
    for (int jj = 0; jj < 4; ++jj) {
      const int j = 4 * j4 + jj;
      const int8x16_t u = vreinterpretq_s8_u8(vld1q_u8(k.u + 16 * j)), q = vld1q_s8(a.qs + 16 * j);
      s[jj] = vpaddlq_s16(vmlal_high_s8(vmull_s8(vget_low_s8(u), vget_low_s8(q)), u, q));
    }
    const int32x4_t sub = vpaddq_s32(vpaddq_s32(s[0], s[1]), vpaddq_s32(s[2], s[3]));  // 4 sub-block sums
    acc = vmlaq_s32(acc, sub, vld1q_s32(k.sc + 4 * j4));
  }
  *isum = vaddvq_s32(acc);
  const int16x8_t mn0 = vld1q_s16(k.mn), mn1 = vld1q_s16(k.mn + 8);
  const int16x8_t bs0 = vld1q_s16(a.bsums), bs1 = vld1q_s16(a.bsums + 8);
  int32x4_t m = vmull_s16(vget_low_s16(mn0), vget_low_s16(bs0));
  m = vmlal_high_s16(m, mn0, bs0);
  m = vmlal_s16(m, vget_low_s16(mn1), vget_low_s16(bs1));
  m = vmlal_high_s16(m, mn1, bs1);
  *msum = vaddvq_s32(m);
}

// Reference: dotK in gemm_scalar.cpp.
template <class B>
void tile_k(int64_t n, const void* w, size_t w_stride, int nr, const void* a, size_t a_stride, int nc, float* y,
            size_t ldy) {
  const int64_t nb = n / QK_K;
  BlockK k;
  for (int c0 = 0; c0 < nc; c0 += kTokChunk) {
    const int cn = std::min(kTokChunk, nc - c0);
    const auto* a0 = static_cast<const uint8_t*>(a) + c0 * a_stride;
    for (int r = 0; r < nr; ++r) {
      const auto* wb = reinterpret_cast<const B*>(static_cast<const uint8_t*>(w) + r * w_stride);
      float sum[kTokChunk] = {};
      for (int64_t i = 0; i < nb; ++i) {
        unpack(wb[i], k);
        for (int c = 0; c < cn; ++c) {
          const block_q8_K& ab = reinterpret_cast<const block_q8_K*>(a0 + c * a_stride)[i];
          int isum, msum;
          dotK_i32(k, ab, &isum, &msum);
          const float dd = k.d * ab.d, dmd = k.dm * ab.d;
          const float v = dd * static_cast<float>(isum) - dmd * static_cast<float>(msum);
          sum[c] = sum[c] + v;
        }
      }
      for (int c = 0; c < cn; ++c) y[(c0 + c) * ldy + r] = sum[c];
    }
  }
}

// ---- float weights (reference: dot_float in gemm_scalar.cpp) ------------------------------------------------
template <class W>
void tile_float(int64_t n, const void* w, size_t w_stride, int nr, const void* a, size_t a_stride, int nc, float* y,
                size_t ldy) {
  for (int c = 0; c < nc; ++c) {
    const auto* ac = reinterpret_cast<const float*>(static_cast<const uint8_t*>(a) + c * a_stride);
    for (int r = 0; r < nr; ++r) {
      const auto* wr = reinterpret_cast<const typename W::T*>(static_cast<const uint8_t*>(w) + r * w_stride);
      y[c * ldy + r] = dot8<W>(wr, ac, n);
    }
  }
}

// ---- activation quantizers (references: act.cpp) ----------------------------------------------------------
float absmax(const float* x, int n) {
  float32x4_t m = vdupq_n_f32(0.0f);
  for (int i = 0; i < n; i += 4) m = vmaxq_f32(m, vabsq_f32(vld1q_f32(x + i)));
  return vmaxvq_f32(m);
}

// 16 values -> round_even(x * id) as bytes (vcvtnq: to nearest, ties to even); returns their sum.
int quantize16(const float* x, float32x4_t id, int8_t* q) {
  int32x4_t v[4];
  for (int k = 0; k < 4; ++k) v[k] = vcvtnq_s32_f32(vmulq_f32(vld1q_f32(x + 4 * k), id));
  const int16x8_t h0 = vcombine_s16(vqmovn_s32(v[0]), vqmovn_s32(v[1]));
  const int16x8_t h1 = vcombine_s16(vqmovn_s32(v[2]), vqmovn_s32(v[3]));
  vst1q_s8(q, vcombine_s8(vqmovn_s16(h0), vqmovn_s16(h1)));
  return vaddvq_s32(vaddq_s32(vaddq_s32(v[0], v[1]), vaddq_s32(v[2], v[3])));
}

float round_fp16(float v) { return fp16_to_f32(f32_to_fp16(v)); }

template <bool kFp16MinSum>
void quantize_32(const float* x, void* act, int64_t n) {
  auto* y = static_cast<block_q8_32x8*>(act);
  const int64_t nb = n / 32;
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    block_q8_32x8& g = y[i / 8];
    const int b = static_cast<int>(i % 8);
    const float amax = absmax(x, 32);
    const float d = amax / 127.0f;
    const float id = amax != 0 ? 127.0f / amax : 0.0f;
    const float32x4_t idv = vdupq_n_f32(id);
    const int sum = quantize16(x, idv, g.qs + 32 * b) + quantize16(x + 16, idv, g.qs + 32 * b + 16);
    g.d[b] = round_fp16(d);
    g.sum[b] = sum;
    g.s[b] = kFp16MinSum ? round_fp16(d * static_cast<float>(sum)) : g.d[b] * static_cast<float>(sum);
  }
  zero_unused_q8_32_blocks(y, nb);
}

void quantize_q8_K(const float* x, void* act, int64_t n) {
  auto* y = static_cast<block_q8_K*>(act);
  for (int64_t i = 0; i < n / QK_K; ++i, x += QK_K) {
    const float amax = absmax(x, QK_K);
    const float id = amax != 0 ? 127.0f / amax : 0.0f;
    const float32x4_t idv = vdupq_n_f32(id);
    for (int j = 0; j < QK_K / 16; ++j)
      y[i].bsums[j] = static_cast<int16_t>(quantize16(x + 16 * j, idv, y[i].qs + 16 * j));
    y[i].d = amax != 0 ? 1.0f / id : 0.0f;
  }
}

IsaKernels make_table() {
  IsaKernels k{};
  auto set = [&](ggml_type t, TileFn f) { k.tile[static_cast<int>(t)] = f; };
  set(ggml_type::F32, tile_float<F32W>);
  set(ggml_type::F16, tile_float<F16W>);
  set(ggml_type::BF16, tile_float<BF16W>);
  set(ggml_type::Q4_0, tile_q32<block_q4_0>);
  set(ggml_type::Q4_1, tile_q32<block_q4_1>);
  set(ggml_type::Q5_0, tile_q32<block_q5_0>);
  set(ggml_type::Q5_1, tile_q32<block_q5_1>);
  set(ggml_type::Q8_0, tile_q32<block_q8_0>);
  set(ggml_type::IQ4_NL, tile_q32<block_iq4_nl>);
  set(ggml_type::Q2_K, tile_k<block_q2_K>);
  set(ggml_type::Q3_K, tile_k<block_q3_K>);
  set(ggml_type::Q4_K, tile_k<block_q4_K>);
  set(ggml_type::Q5_K, tile_k<block_q5_K>);
  set(ggml_type::Q6_K, tile_k<block_q6_K>);
  k.quantize_q8_32 = quantize_32<false>;
  k.quantize_q8_1 = quantize_32<true>;
  k.quantize_q8_K = quantize_q8_K;
  return k;
}

}  // namespace

const IsaKernels* neon_kernels() {
  static const IsaKernels k = make_table();
  return &k;
}

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
const IsaKernels* neon_kernels() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
