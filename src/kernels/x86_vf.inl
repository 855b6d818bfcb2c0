// x86 float vectors of the widest useful size for element-wise work (conversions, axpy): 16-wide zmm with
// AVX-512, 8-wide ymm with AVX2; loads that convert F16 / BF16 storage to f32. Tags F32W / F16W / BF16W name
// the storage type (F16 and BF16 are both uint16_t). L8: the 8 canonical fma lanes of a float dot product
// (gemm_impl.h), one ymm on both.

struct F32W {
  using T = float;
};
struct F16W {
  using T = uint16_t;
};
struct BF16W {
  using T = uint16_t;
};

#if defined(__AVX512F__)
using VF = __m512;
constexpr int kVF = 16;
static inline VF vf_fma(VF a, VF b, VF c) { return _mm512_fmadd_ps(a, b, c); }
static inline VF vf_mul(VF a, VF b) { return _mm512_mul_ps(a, b); }
static inline VF vf_sub(VF a, VF b) { return _mm512_sub_ps(a, b); }
static inline VF vf_div(VF a, VF b) { return _mm512_div_ps(a, b); }
static inline VF vf_add(VF a, VF b) { return _mm512_add_ps(a, b); }
static inline VF vf_max(VF a, VF b) { return _mm512_max_ps(a, b); }
static inline VF vf_neg(VF a) {
  return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MIN)));
}
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
static inline VF vf_fma(VF a, VF b, VF c) { return _mm256_fmadd_ps(a, b, c); }
static inline VF vf_mul(VF a, VF b) { return _mm256_mul_ps(a, b); }
static inline VF vf_sub(VF a, VF b) { return _mm256_sub_ps(a, b); }
static inline VF vf_div(VF a, VF b) { return _mm256_div_ps(a, b); }
static inline VF vf_add(VF a, VF b) { return _mm256_add_ps(a, b); }
static inline VF vf_max(VF a, VF b) { return _mm256_max_ps(a, b); }
static inline VF vf_neg(VF a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
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
// float(half(v)), round to nearest even
static inline VF vf_round_f16(VF v) {
#if defined(__AVX512F__)
  return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
#else
  return _mm256_cvtph_ps(_mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
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

// ---- L8: the 8 canonical fma lanes of a float dot product (gemm_impl.h, vec.h): lane j takes values j, j + 8,
// j + 16, ... zero-padded at the end; one ymm with AVX2 and AVX-512 alike ------------------------------------
static inline __m256 l8_load(F32W, const float* p) { return _mm256_loadu_ps(p); }
static inline __m256 l8_load(F16W, const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
static inline __m256 l8_load(BF16W, const uint16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}
// The first n < 8 values at p, zeros after them; nothing past p + n is read.
#if defined(__AVX512BW__) && defined(__AVX512VL__)
static inline __m256 l8_load_part(F32W, const float* p, int n) {
  return _mm256_maskz_loadu_ps(static_cast<__mmask8>((1u << n) - 1), p);
}
static inline __m256 l8_load_part(F16W, const uint16_t* p, int n) {
  return _mm256_cvtph_ps(_mm_maskz_loadu_epi16(static_cast<__mmask8>((1u << n) - 1), p));
}
static inline __m256 l8_load_part(BF16W, const uint16_t* p, int n) {
  const __m128i h = _mm_maskz_loadu_epi16(static_cast<__mmask8>((1u << n) - 1), p);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
#else
template <class W>
static inline __m256 l8_load_part(W, const typename W::T* p, int n) {
  typename W::T buf[8] = {};
  std::memcpy(buf, p, static_cast<size_t>(n) * sizeof(buf[0]));
  return l8_load(W{}, buf);
}
#endif
// The canonical tree: l_j + l_{j+4}, l_j + l_{j+2}, l_0 + l_1 (hsum of x86_common.inl).
static inline float l8_sum(__m256 v) { return hsum(v); }
