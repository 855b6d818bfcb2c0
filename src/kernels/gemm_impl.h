// Internal: the per-instruction-set kernel tables behind matmul, the activation formats, and the canonical
// order of the float operations that every table follows bit for bit.
//
// matmul turns x (f32) into the activation format the weight type's dot product wants, once per call:
//
//   f32    x as is (F32, F16, BF16 weights).
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
//          take the scales of 8 blocks as one vector; a row's last group is zero-padded. `sum` keeps Σ qs as
//          an integer for kernels that multiply signed weights (x86 without VNNI: Σ (q+128)*a = Σ q*a + 128*sum).
//   q8_K   block_q8_K of tensor/blocks.h: 256 values, d = 1 / (127 / max|x|), bsums = sums of 16 (K-quants);
//          after a row's blocks, from the 64-byte aligned offset q8_K_tile_offset(n), the qs of all its blocks
//          again, back to back (n bytes): the AMX kernels load them as tile rows, which must not straddle cache
//          lines (a 292-byte block's qs lands anywhere in a line: the loads ran ~3x slower). Row sizes are
//          multiples of 64, so that in a 64-byte aligned buffer every row's copy is aligned.
//
// Quantizing is symmetric to ±127 (never -128) and rounds to nearest even, and every instruction set's
// quantizer gives bit-identical blocks.
//
// ---- Canonical order: every output y = Σ_i w[i] * a[i] is the same float on every ISA and thread count ----
// (the spec every port — AVX2, AVX-512, NEON with and without dotprod — follows; gemm_scalar.cpp is its executable form; "·", "+", "-" are single
// IEEE float operations, rounded to nearest even, never contracted into an FMA unless written fma(); the
// kernels library is compiled with -ffp-contract=off so that the compiler cannot fuse them either):
//
//  32-value block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL). Block i of the row holds unsigned integers
//  u[32] with x = d*u + bias: Q4_0 u = nibble, bias = -8·d; Q5_0 u = 5-bit value, bias = -16·d; Q4_1 / Q5_1
//  u = value, bias = m; Q8_0 u = q + 128, bias = -128·d; IQ4_NL u = codebook value + 128, bias = -128·d
//  (the multiples of d are exact). With the activation block's (da, s) and exact integer isum = Σ u[j]*q[j]:
//      v_i = ((d · da) · float(isum)) + (bias · s)
//      y = 0;  y = y + v_i  for i = 0, 1, 2, ... in block order.
//
//  K-quants (Q2_K .. Q6_K). Super-block i: unsigned u[256] (Q3_K u = q + 4, Q6_K u = q + 32), per sub-block j of
//  16 values an integer scale sc[j] and min mn[j] (Q3_K mn = 4*sc, Q6_K mn = 32*sc; Q4_K / Q5_K repeat their
//  32-value scales), f16 d and dm (dm = d for Q3_K and Q6_K). With the activation's (da, qs, bsums), exact
//      isum = Σ_j sc[j] * Σ_l u[16j+l]*qs[16j+l],   msum = Σ_j mn[j] * bsums[j]
//      v_i = ((d · da) · float(isum)) - ((dm · da) · float(msum))
//      y = 0;  y = y + v_i  for i in block order.
//  (Integer sums may be formed in any order and width: they are exact.)
//
//  Float weights (F32, F16, BF16; weights converted to f32 exactly). 8 lanes: w and a are zero-padded to a
//  multiple of 8 values; lane j (0..7) holds
//      l_j = 0;  l_j = fma(w[i], a[i], l_j)  for i = j, j + 8, j + 16, ... in order
//  and the lanes are reduced by a fixed tree:
//      l_j = l_j + l_{j+4} (j < 4);  l_j = l_j + l_{j+2} (j < 2);  y = l_0 + l_1.
//  (One ymm accumulator per output with AVX2 and AVX-512 alike — as many FMA lanes per cycle as zmm on the
//  AVX-512 desktops we target, and AVX2's 16 registers still hold 8 outputs; two NEON q registers. The same
//  order as the attention dot products of vec.h.)
//
// The result of an output never depends on which rows or tokens a kernel groups together, so the tiling of
// matmul (and with it the thread count) does not change any bit either.
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
  float s[8];            // d * sum(qs) of each block (q8_1: fp16(d_exact * sum))
  int32_t sum[8];        // sum(qs) of each block
  int8_t qs[8 * 32];
};
static_assert(sizeof(block_q8_32x8) == 352);

ActFormat act_format(ggml_type t);                 // t supported
size_t act_row_bytes(ActFormat f, int64_t n);     // n a multiple of the format's block
size_t q8_K_tile_offset(int64_t n);               // where a q8_K row's aligned copy of its qs starts
// Every q8_K quantizer's last step: the row's qs to its aligned copy.
void copy_q8_K_tile_bytes(void* act, int64_t n);

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
  // Prefill tiles of this many tokens whatever the row length, for kernels that block the row themselves to keep
  // the tile's activations in L2; 0: as many tokens as fit L2 beside a whole row (at most 64).
  int16_t tile_tokens[kTypeSlots];
  // Prefill tiles of up to this many rows (balance permitting), for kernels that block the row themselves so that
  // the tile's rows need not fit L2 beside its activations; 0: as many rows as fit kTileBytes.
  int16_t tile_rows[kTypeSlots];
  QuantizeActFn quantize_q8_32;
  QuantizeActFn quantize_q8_1;
  QuantizeActFn quantize_q8_K;
};

// Each returns null when the instruction set is not compiled into this build (neon: aarch64 builds only).
const IsaKernels* scalar_kernels();
const IsaKernels* avx2_kernels();
const IsaKernels* avxvnni_kernels();
const IsaKernels* avx512_kernels();
const IsaKernels* amx_kernels();           // avx512's table with AMX prefill tiles (call only where isa_available)
const IsaKernels* neon_kernels();
const IsaKernels* neon_dotprod_kernels();  // call only when the CPU has dotprod (isa_available)

// The table for an instruction set (falls back to scalar where a variant is missing).
const IsaKernels& kernels_for(Isa isa);
// A table's quantizer for activation format f (q8_32, q8_1 or q8_K; f32 needs none).
QuantizeActFn act_quantizer(const IsaKernels& k, ActFormat f);

// Scalar reference activation quantizers.
void quantize_act_q8_32_ref(const float* x, void* act, int64_t n);
// Zeroes the blocks of the last group of a row of nb 32-blocks that the row does not fill (every quantizer's
// last step, so that kernels may run over whole groups).
void zero_unused_q8_32_blocks(block_q8_32x8* y, int64_t nb);
void quantize_act_q8_1_ref(const float* x, void* act, int64_t n);
void quantize_act_q8_K_ref(const float* x, void* act, int64_t n);

}  // namespace prima::kernels::detail
