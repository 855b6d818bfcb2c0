// x86 dot products of F32 / F16 / BF16 weights with f32 activations, register-blocked R rows × C tokens:
// each weight vector is loaded (and converted) once per C tokens, each activation vector once per R rows.
// AVX2 uses 8-wide ymm, AVX-512 16-wide zmm (more accumulators fit in its 32 registers).

struct F32W {
  using T = float;
};
struct F16W {
  using T = uint16_t;
};
struct BF16W {
  using T = uint16_t;
};

static inline float bf16_bits_to_f32(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
static inline float scalar_to_f32(F32W, float v) { return v; }
static inline float scalar_to_f32(F16W, uint16_t v) { return f16_to_f32(v); }
static inline float scalar_to_f32(BF16W, uint16_t v) { return bf16_bits_to_f32(v); }

#if defined(__AVX512F__)
using VF = __m512;
constexpr int kVF = 16;
static inline VF vf_zero() { return _mm512_setzero_ps(); }
static inline VF vf_fma(VF a, VF b, VF c) { return _mm512_fmadd_ps(a, b, c); }
static inline float vf_sum(VF v) { return _mm512_reduce_add_ps(v); }
static inline VF vf_load(F32W, const float* p) { return _mm512_loadu_ps(p); }
static inline VF vf_load(F16W, const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
static inline VF vf_load(BF16W, const uint16_t* p) {
  const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}
#else
using VF = __m256;
constexpr int kVF = 8;
static inline VF vf_zero() { return _mm256_setzero_ps(); }
static inline VF vf_fma(VF a, VF b, VF c) { return _mm256_fmadd_ps(a, b, c); }
static inline float vf_sum(VF v) { return hsum(v); }
static inline VF vf_load(F32W, const float* p) { return _mm256_loadu_ps(p); }
static inline VF vf_load(F16W, const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
static inline VF vf_load(BF16W, const uint16_t* p) {
  const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}
#endif

template <class W>
struct FloatKernel {
  using T = typename W::T;
#if defined(__AVX512F__)
  static constexpr int R = 4;  // 16 accumulators + 4 weight vectors + 1 activation of 32 registers
  static constexpr int C = 4;
#else
  static constexpr int R = 2;  // 8 accumulators + 2 weight vectors + 1 activation of 16 registers
  static constexpr int C = 4;
#endif

  template <int Rr, int Cc>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y, size_t ldy) {
    const T* wr[Rr];
    const float* ac[Cc];
    for (int r = 0; r < Rr; ++r) wr[r] = reinterpret_cast<const T*>(w + r * ws);
    for (int c = 0; c < Cc; ++c) ac[c] = reinterpret_cast<const float*>(a + c * as);
    VF acc[Rr][Cc];
    for (int r = 0; r < Rr; ++r)
      for (int c = 0; c < Cc; ++c) acc[r][c] = vf_zero();
    int64_t i = 0;
    for (; i + kVF <= n; i += kVF) {
      VF wv[Rr];
      for (int r = 0; r < Rr; ++r) wv[r] = vf_load(W{}, wr[r] + i);
      for (int c = 0; c < Cc; ++c) {
        const VF av = vf_load(F32W{}, ac[c] + i);
        for (int r = 0; r < Rr; ++r) acc[r][c] = vf_fma(wv[r], av, acc[r][c]);
      }
    }
    for (int r = 0; r < Rr; ++r) {
      for (int c = 0; c < Cc; ++c) {
        float s = vf_sum(acc[r][c]);
        for (int64_t t = i; t < n; ++t) s += scalar_to_f32(W{}, wr[r][t]) * ac[c][t];
        y[c * ldy + r] = s;
      }
    }
  }
};
