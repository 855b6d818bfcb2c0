// NEON kernel table for plain ARMv8-A (every AArch64 CPU; ARMv8.0 cores such as the Cortex-A53 / A72 have no
// dot-product instructions), bit-identical to the scalar reference (gemm_scalar.cpp, act.cpp) because it follows
// the canonical order of gemm_impl.h:
//   - quantized weights: the register-tiled kernels of neon_gemm_q32.inl / neon_gemm_k.inl with 8-bit products
//     from smull / smlal2 summed in 16 bits and widened with sadalp (PRIMA_NEON_SDOT 0); CPUs with the
//     dot-product extension get the same kernels with SDOT from gemm_neon_dotprod.cpp;
//   - float weights: the 8 fma lanes of neon_l8.inl, 4 weight rows per pass;
//   - the activation quantizers (shared with the dotprod table).
// NEON is part of the AArch64 baseline, so this file is compiled with the same flags as the rest of the library
// (unlike the x86 and dotprod tables, it may share inline functions such as fp16_to_f32 with baseline code).
#include "kernels/gemm_impl.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>

#include <cstring>

#include "core/fp16.h"
#include "tensor/blocks.h"

namespace prima::kernels::detail {
namespace {
#include "kernels/neon_l8.inl"

#define PRIMA_NEON_SDOT 0
#include "kernels/neon_common.inl"
#include "kernels/neon_gemm_q32.inl"
#include "kernels/neon_gemm_k.inl"
#include "kernels/neon_table.inl"
#undef PRIMA_NEON_SDOT

// ---- float weights (reference: dot_float in gemm_scalar.cpp) ------------------------------------------------
// 4 weight rows per pass against one activation row.
template <class W>
void tile_float(int64_t n, const void* w, size_t w_stride, int nr, const void* a, size_t a_stride, int nc, float* y,
                size_t ldy) {
  using T = typename W::T;
  auto row = [&](int r) { return reinterpret_cast<const T*>(static_cast<const uint8_t*>(w) + r * w_stride); };
  for (int c = 0; c < nc; ++c) {
    const auto* ac = reinterpret_cast<const float*>(static_cast<const uint8_t*>(a) + c * a_stride);
    int r = 0;
    for (; r + 4 <= nr; r += 4) {
      const T* wr[4] = {row(r), row(r + 1), row(r + 2), row(r + 3)};
      dot8_rows<W, 4>(wr, ac, n, y + c * ldy + r);
    }
    for (; r < nr; ++r) y[c * ldy + r] = dot8<W>(row(r), ac, n);
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
  copy_q8_K_tile_bytes(act, n);
}

IsaKernels make_table() {
  IsaKernels k{};
  auto set = [&](ggml_type t, TileFn f) { k.tile[static_cast<int>(t)] = f; };
  set(ggml_type::F32, tile_float<F32W>);
  set(ggml_type::F16, tile_float<F16W>);
  set(ggml_type::BF16, tile_float<BF16W>);
  set_quantized_tiles(k);
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
