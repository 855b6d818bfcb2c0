// Block layouts of the quantized GGML types, byte for byte as they are stored in GGUF files.
//
// Legacy quants (32 values per block):
//   Q4_0  d:f16, qs[16]            x = d * (q - 8),          q = 4-bit, low nibbles hold values 0..15,
//                                                            high nibbles hold values 16..31
//   Q4_1  d:f16, m:f16, qs[16]     x = d * q + m
//   Q5_0  d:f16, qh[4], qs[16]     q = nibble | (bit j of qh) << 4;   x = d * (q - 16)
//   Q5_1  d:f16, m:f16, qh[4], qs[16]                        x = d * q + m
//   Q8_0  d:f16, qs[32]:i8         x = d * q
//   Q8_1  d:f16, s:f16, qs[32]:i8  x = d * q, s = d * sum(q)   (activation format)
//   IQ4_NL d:f16, qs[16]           x = d * kvalues_iq4nl[nibble]  (non-linear 4-bit codebook)
// K-quants (super-blocks of QK_K = 256 values, split into sub-blocks with their own scales):
//   Q2_K  scales[16] (4-bit scale | 4-bit min << 4), qs[64] (2-bit), d:f16, dmin:f16
//   Q3_K  hmask[32] (high bit), qs[64] (low 2 bits), scales[12] (16 x 6-bit), d:f16
//   Q4_K  d:f16, dmin:f16, scales[12] (8 x 6-bit scale + 8 x 6-bit min), qs[128] (4-bit)
//   Q5_K  d:f16, dmin:f16, scales[12], qh[32] (high bit), qs[128] (low 4 bits)
//   Q6_K  ql[128] (low 4 bits), qh[64] (high 2 bits), scales[16]:i8, d:f16;  x = d * scale * (q - 32)
//   Q8_K  d:f32, qs[256]:i8, bsums[16]:i16 (sum of each group of 16)  (activation format for K-quants)
#pragma once

#include <cstdint>

#include "core/fp16.h"

namespace prima {

inline constexpr int QK4_0 = 32;
inline constexpr int QK4_1 = 32;
inline constexpr int QK5_0 = 32;
inline constexpr int QK5_1 = 32;
inline constexpr int QK8_0 = 32;
inline constexpr int QK8_1 = 32;
inline constexpr int QK4_NL = 32;
inline constexpr int QK_K = 256;
inline constexpr int K_SCALE_SIZE = 12;

struct block_q4_0 {
  fp16_t d;
  uint8_t qs[QK4_0 / 2];
};
static_assert(sizeof(block_q4_0) == 18);

struct block_q4_1 {
  fp16_t d;
  fp16_t m;
  uint8_t qs[QK4_1 / 2];
};
static_assert(sizeof(block_q4_1) == 20);

struct block_q5_0 {
  fp16_t d;
  uint8_t qh[4];
  uint8_t qs[QK5_0 / 2];
};
static_assert(sizeof(block_q5_0) == 22);

struct block_q5_1 {
  fp16_t d;
  fp16_t m;
  uint8_t qh[4];
  uint8_t qs[QK5_1 / 2];
};
static_assert(sizeof(block_q5_1) == 24);

struct block_q8_0 {
  fp16_t d;
  int8_t qs[QK8_0];
};
static_assert(sizeof(block_q8_0) == 34);

struct block_q8_1 {
  fp16_t d;
  fp16_t s;
  int8_t qs[QK8_1];
};
static_assert(sizeof(block_q8_1) == 36);

struct block_iq4_nl {
  fp16_t d;
  uint8_t qs[QK4_NL / 2];
};
static_assert(sizeof(block_iq4_nl) == 18);

struct block_q2_K {
  uint8_t scales[QK_K / 16];
  uint8_t qs[QK_K / 4];
  fp16_t d;
  fp16_t dmin;
};
static_assert(sizeof(block_q2_K) == 84);

struct block_q3_K {
  uint8_t hmask[QK_K / 8];
  uint8_t qs[QK_K / 4];
  uint8_t scales[12];
  fp16_t d;
};
static_assert(sizeof(block_q3_K) == 110);

struct block_q4_K {
  fp16_t d;
  fp16_t dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_q4_K) == 144);

struct block_q5_K {
  fp16_t d;
  fp16_t dmin;
  uint8_t scales[K_SCALE_SIZE];
  uint8_t qh[QK_K / 8];
  uint8_t qs[QK_K / 2];
};
static_assert(sizeof(block_q5_K) == 176);

struct block_q6_K {
  uint8_t ql[QK_K / 2];
  uint8_t qh[QK_K / 4];
  int8_t scales[QK_K / 16];
  fp16_t d;
};
static_assert(sizeof(block_q6_K) == 210);

struct block_q8_K {
  float d;
  int8_t qs[QK_K];
  int16_t bsums[QK_K / 16];
};
static_assert(sizeof(block_q8_K) == 292);

// The IQ4_NL codebook.
inline constexpr int8_t kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                             1,    13,   25,  38,  53,  69,  89,  113};

}  // namespace prima
