// Scalar dequantizers: the reference decoding of every supported block layout (tensor/blocks.h).
#include <cstring>

#include "core/error.h"
#include "kernels/kquant_scales.h"
#include "kernels/quant.h"
#include "tensor/blocks.h"

namespace prima::kernels {
namespace {

using detail::k4_scale_min;

void deq_q4_0(const block_q4_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += 32) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < 16; ++j) {
      y[j] = d * ((b[i].qs[j] & 15) - 8);
      y[j + 16] = d * ((b[i].qs[j] >> 4) - 8);
    }
  }
}

void deq_q4_1(const block_q4_1* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += 32) {
    const float d = fp16_to_f32(b[i].d), m = fp16_to_f32(b[i].m);
    for (int j = 0; j < 16; ++j) {
      y[j] = d * (b[i].qs[j] & 15) + m;
      y[j + 16] = d * (b[i].qs[j] >> 4) + m;
    }
  }
}

template <class B>
void deq_q5(const B* b, float* y, int64_t nb) {  // Q5_0 (x = d*(q-16)) and Q5_1 (x = d*q + m)
  for (int64_t i = 0; i < nb; ++i, y += 32) {
    const float d = fp16_to_f32(b[i].d);
    float m = -16.0f * d;
    if constexpr (requires { b[i].m; }) m = fp16_to_f32(b[i].m);
    uint32_t qh;
    std::memcpy(&qh, b[i].qh, 4);
    for (int j = 0; j < 16; ++j) {
      const int lo = (b[i].qs[j] & 15) | (((qh >> j) & 1) << 4);
      const int hi = (b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
      y[j] = d * lo + m;
      y[j + 16] = d * hi + m;
    }
  }
}

void deq_q8_0(const block_q8_0* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += 32) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < 32; ++j) y[j] = d * b[i].qs[j];
  }
}

void deq_iq4_nl(const block_iq4_nl* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, y += 32) {
    const float d = fp16_to_f32(b[i].d);
    for (int j = 0; j < 16; ++j) {
      y[j] = d * kvalues_iq4nl[b[i].qs[j] & 15];
      y[j + 16] = d * kvalues_iq4nl[b[i].qs[j] >> 4];
    }
  }
}

void deq_q2_K(const block_q2_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_f32(b[i].d), dmin = fp16_to_f32(b[i].dmin);
    for (int v = 0; v < QK_K; ++v) {  // value v: half v/128, shift 2*((v%128)/32), byte v%32, sub-block v/16
      const int q = (b[i].qs[32 * (v / 128) + v % 32] >> (2 * ((v % 128) / 32))) & 3;
      const int s = b[i].scales[v / 16];
      *y++ = d * (s & 15) * q - dmin * (s >> 4);
    }
  }
}

void deq_q3_K(const block_q3_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_f32(b[i].d);
    int sc[16];
    detail::q3k_scales(b[i].scales, sc);
    for (int v = 0; v < QK_K; ++v) {
      const int j = (v % 128) / 32;  // 2-bit plane
      const int lo = (b[i].qs[32 * (v / 128) + v % 32] >> (2 * j)) & 3;
      const int hbit = (b[i].hmask[v % 32] >> (4 * (v / 128) + j)) & 1;
      *y++ = d * sc[v / 16] * ((lo | (hbit << 2)) - 4);
    }
  }
}

void deq_q4_K(const block_q4_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_f32(b[i].d), dmin = fp16_to_f32(b[i].dmin);
    for (int j = 0; j < 8; ++j) {  // sub-blocks of 32: low nibbles of qs[32*(j/2)..] for even j, high for odd
      int sc, m;
      k4_scale_min(j, b[i].scales, &sc, &m);
      const uint8_t* q = b[i].qs + 32 * (j / 2);
      for (int l = 0; l < 32; ++l) *y++ = d * sc * ((q[l] >> (4 * (j % 2))) & 15) - dmin * m;
    }
  }
}

void deq_q5_K(const block_q5_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_f32(b[i].d), dmin = fp16_to_f32(b[i].dmin);
    for (int j = 0; j < 8; ++j) {  // as Q4_K, plus bit j of qh[l] as the fifth bit
      int sc, m;
      k4_scale_min(j, b[i].scales, &sc, &m);
      const uint8_t* q = b[i].qs + 32 * (j / 2);
      for (int l = 0; l < 32; ++l) {
        const int v = ((q[l] >> (4 * (j % 2))) & 15) | (((b[i].qh[l] >> j) & 1) << 4);
        *y++ = d * sc * v - dmin * m;
      }
    }
  }
}

void deq_q6_K(const block_q6_K* b, float* y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16_to_f32(b[i].d);
    for (int v = 0; v < QK_K; ++v) {  // half h = v/128; quarter k = (v%128)/32; l = v%32
      const int h = v / 128, k = (v % 128) / 32, l = v % 32;
      const uint8_t ql = b[i].ql[64 * h + l + 32 * (k & 1)];
      const int lo = (ql >> (4 * (k >> 1))) & 15;
      const int hi = (b[i].qh[32 * h + l] >> (2 * k)) & 3;
      *y++ = d * b[i].scales[v / 16] * ((lo | (hi << 4)) - 32);
    }
  }
}

}  // namespace

void dequantize_row(ggml_type t, const void* src, float* dst, int64_t n) {
  const int64_t nb = n / traits(t).block_size;
  switch (t) {
    case ggml_type::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case ggml_type::F16:
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_f32(static_cast<const fp16_t*>(src)[i]);
      return;
    case ggml_type::BF16:
      for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(static_cast<const bf16_t*>(src)[i]);
      return;
    case ggml_type::Q4_0: return deq_q4_0(static_cast<const block_q4_0*>(src), dst, nb);
    case ggml_type::Q4_1: return deq_q4_1(static_cast<const block_q4_1*>(src), dst, nb);
    case ggml_type::Q5_0: return deq_q5(static_cast<const block_q5_0*>(src), dst, nb);
    case ggml_type::Q5_1: return deq_q5(static_cast<const block_q5_1*>(src), dst, nb);
    case ggml_type::Q8_0: return deq_q8_0(static_cast<const block_q8_0*>(src), dst, nb);
    case ggml_type::IQ4_NL: return deq_iq4_nl(static_cast<const block_iq4_nl*>(src), dst, nb);
    case ggml_type::Q2_K: return deq_q2_K(static_cast<const block_q2_K*>(src), dst, nb);
    case ggml_type::Q3_K: return deq_q3_K(static_cast<const block_q3_K*>(src), dst, nb);
    case ggml_type::Q4_K: return deq_q4_K(static_cast<const block_q4_K*>(src), dst, nb);
    case ggml_type::Q5_K: return deq_q5_K(static_cast<const block_q5_K*>(src), dst, nb);
    case ggml_type::Q6_K: return deq_q6_K(static_cast<const block_q6_K*>(src), dst, nb);
    default: break;
  }
  fail("dequantize_row: type {} is not supported", type_name(t));
}

}  // namespace prima::kernels
