// Activation formats and their scalar reference quantizers; the choice of kernel table per instruction set.
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/fp16.h"
#include "kernels/gemm_impl.h"
#include "tensor/blocks.h"

namespace prima::kernels::detail {
namespace {

// Round to nearest, ties to even, for |v| < 2^22 (what _mm256_round_ps / vrndn do): bit-identical to SIMD.
inline int round_even(float v) {
  const float magic = 12582912.0f;  // 1.5 * 2^23
  return static_cast<int>((v + magic) - magic);
}

float round_fp16(float v) { return fp16_to_f32(f32_to_fp16(v)); }

float absmax(const float* x, int n) {
  float m = 0;
  for (int i = 0; i < n; ++i) m = std::fmax(m, std::fabs(x[i]));
  return m;
}

}  // namespace

ActFormat act_format(ggml_type t) {
  switch (t) {
    case ggml_type::F32:
    case ggml_type::F16:
    case ggml_type::BF16: return ActFormat::f32;
    case ggml_type::Q2_K:
    case ggml_type::Q3_K:
    case ggml_type::Q4_K:
    case ggml_type::Q5_K:
    case ggml_type::Q6_K: return ActFormat::q8_K;
    case ggml_type::Q4_1:
    case ggml_type::Q5_1: return ActFormat::q8_1;
    default: return ActFormat::q8_32;
  }
}

size_t act_row_bytes(ActFormat f, int64_t n) {
  switch (f) {
    case ActFormat::f32: return static_cast<size_t>(n) * sizeof(float);
    case ActFormat::q8_32:
    case ActFormat::q8_1: return static_cast<size_t>((n / 32 + 7) / 8) * sizeof(block_q8_32x8);
    case ActFormat::q8_K: return q8_K_tile_offset(n) + static_cast<size_t>(n);
  }
  return 0;
}

size_t q8_K_tile_offset(int64_t n) { return (static_cast<size_t>(n / QK_K) * sizeof(block_q8_K) + 63) / 64 * 64; }

void copy_q8_K_tile_bytes(void* act, int64_t n) {
  auto* row = static_cast<uint8_t*>(act);
  const auto* y = static_cast<const block_q8_K*>(act);
  const size_t off = q8_K_tile_offset(n), blocks_end = static_cast<size_t>(n / QK_K) * sizeof(block_q8_K);
  std::memset(row + blocks_end, 0, off - blocks_end);  // the gap: every byte of a row is defined
  for (int64_t i = 0; i < n / QK_K; ++i) std::memcpy(row + off + i * QK_K, y[i].qs, QK_K);
}

void zero_unused_q8_32_blocks(block_q8_32x8* y, int64_t nb) {
  if (nb % 8 == 0) return;
  block_q8_32x8& g = y[nb / 8];
  for (int b = static_cast<int>(nb % 8); b < 8; ++b) {
    g.d[b] = g.s[b] = 0;
    g.sum[b] = 0;
    std::memset(g.qs + 32 * b, 0, 32);
  }
}

namespace {
// The 32-blocks; fp16_min_sum selects q8_1's s = fp16(d * Σq) over q8_32's s = fp16(d) * Σq.
void quantize_32(const float* x, void* act, int64_t n, bool fp16_min_sum) {
  auto* y = static_cast<block_q8_32x8*>(act);
  const int64_t nb = n / 32;
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    block_q8_32x8& g = y[i / 8];
    const int b = static_cast<int>(i % 8);
    const float amax = absmax(x, 32);
    const float d = amax / 127.0f;
    const float id = amax != 0 ? 127.0f / amax : 0.0f;
    int sum = 0;
    for (int j = 0; j < 32; ++j) {
      const int q = round_even(x[j] * id);
      g.qs[32 * b + j] = static_cast<int8_t>(q);
      sum += q;
    }
    g.d[b] = round_fp16(d);
    g.sum[b] = sum;
    g.s[b] = fp16_min_sum ? round_fp16(d * static_cast<float>(sum)) : g.d[b] * static_cast<float>(sum);
  }
  zero_unused_q8_32_blocks(y, nb);
}
}  // namespace

void quantize_act_q8_32_ref(const float* x, void* act, int64_t n) { quantize_32(x, act, n, false); }
void quantize_act_q8_1_ref(const float* x, void* act, int64_t n) { quantize_32(x, act, n, true); }

void quantize_act_q8_K_ref(const float* x, void* act, int64_t n) {
  auto* y = static_cast<block_q8_K*>(act);
  for (int64_t i = 0; i < n / QK_K; ++i, x += QK_K) {
    const float amax = absmax(x, QK_K);
    const float id = amax != 0 ? 127.0f / amax : 0.0f;
    for (int j = 0; j < QK_K / 16; ++j) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) {
        const int q = round_even(x[16 * j + l] * id);
        y[i].qs[16 * j + l] = static_cast<int8_t>(q);
        sum += q;
      }
      y[i].bsums[j] = static_cast<int16_t>(sum);
    }
    y[i].d = amax != 0 ? 1.0f / id : 0.0f;
  }
  copy_q8_K_tile_bytes(act, n);
}

const IsaKernels& kernels_for(Isa isa) {
  const IsaKernels* k = nullptr;
  switch (isa) {
    case Isa::avx512: k = avx512_kernels(); break;
    case Isa::amx: k = amx_kernels(); break;
    case Isa::avx2: k = avx2_kernels(); break;
    case Isa::avx_vnni: k = avxvnni_kernels(); break;
    case Isa::neon: k = neon_kernels(); break;
    case Isa::neon_dotprod: k = neon_dotprod_kernels(); break;
    default: break;
  }
  return k ? *k : *scalar_kernels();
}

QuantizeActFn act_quantizer(const IsaKernels& k, ActFormat f) {
  PRIMA_ASSERT(f != ActFormat::f32);
  return f == ActFormat::q8_32 ? k.quantize_q8_32 : f == ActFormat::q8_1 ? k.quantize_q8_1 : k.quantize_q8_K;
}

}  // namespace prima::kernels::detail
