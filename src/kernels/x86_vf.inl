// x86 float vectors of the widest useful size: 16-wide zmm with AVX-512, 8-wide ymm with AVX2; loads that
// convert F16 / BF16 storage to f32. Tags F32W / F16W / BF16W name the storage type (F16 and BF16 are both
// uint16_t).

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
static inline void vf_store(float* p, VF v) {
#if defined(__AVX512F__)
  _mm512_storeu_ps(p, v);
#else
  _mm256_storeu_ps(p, v);
#endif
}
static inline void vf_store_f16(uint16_t* p, VF v) {
#if defined(__AVX512F__)
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
#else
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
#endif
}
static inline VF vf_set1(float v) {
#if defined(__AVX512F__)
  return _mm512_set1_ps(v);
#else
  return _mm256_set1_ps(v);
#endif
}
static inline uint16_t f32_to_f16_bits(float v) { return _cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT); }
