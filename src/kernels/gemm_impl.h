// Internal: the per-instruction-set kernel tables behind matmul, and the activation formats.
//
// matmul turns x (f32) into the activation format the weight type's dot product wants, once per call:
//
//   f32    x as is (F32, F16, BF16 weights: products in f32, exact up to summation order)
//   q8_32  blocks of 32: x[i] ≈ d * qs[i] with d = max|x| / 127; s = d * Σ qs  (Q4_0, Q5_0, Q8_0, IQ4_NL).
//          With s a weight's offset or min costs one multiply per block:
//          Σ (dw*u + bw) * (da*q) = dw*da * Σ u*q + bw * s.
//   q8_1   the same layout for the types with a min (Q4_1, Q5_1), where s = fp16(d_exact * Σ qs).
// The rounding is llama.cpp's, bit for bit (its x86 quantize_row_q8_0 / q8_1 / q8_K): q = round_even(x * 127 /
// max|x|); the 32-blocks' d is stored rounded to f16 (as block_q8_0 / block_q8_1 hold it), the 256-block's
// d = 1 / (127 / max|x|) in f32. On random-weight models a last-bit difference in an activation's rounding
// grows to ~3 % of the logits, so matching the reference engine's rounding is what keeps us within its
// tolerances.
//          Stored as groups of 8 blocks, scales apart from the values (block_q8_32x8), so that kernels can
//          take the scales of 8 blocks as one vector; a row's last group is zero-padded.
//   q8_K   block_q8_K of tensor/blocks.h: 256 values, d = 1 / (127 / max|x|), bsums = sums of 16 (K-quants).
//
// Quantizing is symmetric to ±127 (never -128) and rounds to nearest even, and every instruction set's
// quantizer gives bit-identical blocks, so SIMD and scalar results differ only by the summation order.
//
// Nothing here is inline: SIMD translation units include this header and must not emit out-of-line copies
// of code that baseline translation units share (see x86_common.inl).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/isa.h"
#include "tensor/types.h"

namespace prima::kernels::detail {

enum class ActFormat : uint8_t { f32, q8_32, q8_1, q8_K };

struct block_q8_32x8 {  // 8 blocks of 32 values
  float d[8];            // scale of each block
  float s[8];            // d * sum(qs) of each block
  int8_t qs[8 * 32];
};
static_assert(sizeof(block_q8_32x8) == 320);

ActFormat act_format(ggml_type t);                 // t supported
size_t act_row_bytes(ActFormat f, int64_t n);     // n a multiple of the format's block

// A tile of the product of nr weight rows and nc activation rows:
//   y[c * ldy + r] = Σ_i w[r][i] * a[c][i]   for r < nr, c < nc.
// w: nr rows of n values, w_stride bytes apart; a: nc rows in the type's ActFormat, a_stride bytes apart.
using TileFn = void (*)(int64_t n, const void* w, size_t w_stride, int nr, const void* a, size_t a_stride, int nc,
                        float* y, size_t ldy);
// One activation row: x[n] -> act row (n a multiple of the block size).
using QuantizeActFn = void (*)(const float* x, void* act, int64_t n);

constexpr int kTypeSlots = 40;  // indexed by ggml_type id

struct IsaKernels {
  TileFn tile[kTypeSlots];  // null for unsupported types
  QuantizeActFn quantize_q8_32;
  QuantizeActFn quantize_q8_1;
  QuantizeActFn quantize_q8_K;
};

// Each returns null when the instruction set is not compiled into this build.
const IsaKernels* scalar_kernels();
const IsaKernels* avx2_kernels();
const IsaKernels* avx512_kernels();

// The table for an instruction set (falls back to scalar where a variant is missing).
const IsaKernels& kernels_for(Isa isa);

// Scalar reference activation quantizers.
void quantize_act_q8_32_ref(const float* x, void* act, int64_t n);
void quantize_act_q8_1_ref(const float* x, void* act, int64_t n);
void quantize_act_q8_K_ref(const float* x, void* act, int64_t n);

}  // namespace prima::kernels::detail
