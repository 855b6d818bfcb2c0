// Weight rows in vector lanes, for the packed prefill kernels with VNNI (x86_gemm_k_packed.inl,
// x86_gemm_q32_packed.inl): one 32-bit lane per row, 16 rows in a zmm with AVX-512, 8 in a ymm with AVX-VNNI.
// The kernels are written once against RowsI / RowsF and these operations; every lane follows the canonical
// float order of gemm_impl.h, whatever the width. Included by x86_common.inl when PRIMA_VNNI.

#if defined(__AVX512F__)
using RowsI = __m512i;
using RowsF = __m512;
constexpr int kLaneRows = 16;

static inline RowsI ri_zero() { return _mm512_setzero_si512(); }
static inline RowsI ri_set1(int32_t v) { return _mm512_set1_epi32(v); }
static inline RowsI ri_add(RowsI a, RowsI b) { return _mm512_add_epi32(a, b); }
static inline RowsI ri_mullo(RowsI a, RowsI b) { return _mm512_mullo_epi32(a, b); }
static inline RowsI ri_shl16(RowsI a) { return _mm512_slli_epi32(a, 16); }
// i16 lanes 2k from lo, 2k + 1 from hi.
static inline RowsI ri_pairs16(RowsI lo, RowsI hi) { return _mm512_mask_blend_epi16(0xaaaaaaaau, lo, hi); }
static inline RowsI ri_dpbusd(RowsI acc, RowsI u, RowsI s) { return _mm512_dpbusd_epi32(acc, u, s); }
static inline RowsI ri_dpwssd(RowsI acc, RowsI a, RowsI b) { return _mm512_dpwssd_epi32(acc, a, b); }
// acc + the 4 bytes at q (signed), broadcast to every lane, dotted with u's 4 unsigned bytes per lane: vpdpbusd
// with an EVEX embedded broadcast, one instruction where GCC emits a vpbroadcastd and a vpdpbusd (measured with 8
// rows per ymm: +8-20 % for Q3_K-Q6_K, 1 thread, in turns; the packed 32-value kernel was 15-20 % slower with it,
// its two chains per token scheduled worse around the opaque asm, so it keeps ri_dpbusd).
static inline RowsI ri_dpbusd_bcast(RowsI acc, RowsI u, const int8_t* q) {
  typedef int32_t __attribute__((may_alias)) i32_alias;
  __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(u), "m"(*reinterpret_cast<const i32_alias*>(q)));
  return acc;
}

static inline RowsF rf_set1(float v) { return _mm512_set1_ps(v); }
static inline RowsF rf_cvt(RowsI a) { return _mm512_cvtepi32_ps(a); }
static inline RowsF rf_mul(RowsF a, RowsF b) { return _mm512_mul_ps(a, b); }
static inline RowsF rf_add(RowsF a, RowsF b) { return _mm512_add_ps(a, b); }
static inline RowsF rf_sub(RowsF a, RowsF b) { return _mm512_sub_ps(a, b); }
// kLaneRows f16 at h (32-byte aligned) as floats.
static inline RowsF rf_f16(const uint16_t* h) {
  return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(h)));
}
#else
using RowsI = __m256i;
using RowsF = __m256;
constexpr int kLaneRows = 8;

static inline RowsI ri_zero() { return _mm256_setzero_si256(); }
static inline RowsI ri_set1(int32_t v) { return _mm256_set1_epi32(v); }
static inline RowsI ri_add(RowsI a, RowsI b) { return _mm256_add_epi32(a, b); }
static inline RowsI ri_mullo(RowsI a, RowsI b) { return _mm256_mullo_epi32(a, b); }
static inline RowsI ri_shl16(RowsI a) { return _mm256_slli_epi32(a, 16); }
static inline RowsI ri_pairs16(RowsI lo, RowsI hi) { return _mm256_blend_epi16(lo, hi, 0xaa); }
static inline RowsI ri_dpbusd(RowsI acc, RowsI u, RowsI s) { return dpbusd(acc, u, s); }
static inline RowsI ri_dpwssd(RowsI acc, RowsI a, RowsI b) { return dpwssd(acc, a, b); }
// VEX has no embedded broadcast: GCC loads the 4 bytes with vpbroadcastd (a load-port micro-op on Intel cores).
static inline RowsI ri_dpbusd_bcast(RowsI acc, RowsI u, const int8_t* q) { return dpbusd(acc, u, bcast4(q)); }

static inline RowsF rf_set1(float v) { return _mm256_set1_ps(v); }
static inline RowsF rf_cvt(RowsI a) { return _mm256_cvtepi32_ps(a); }
static inline RowsF rf_mul(RowsF a, RowsF b) { return _mm256_mul_ps(a, b); }
static inline RowsF rf_add(RowsF a, RowsF b) { return _mm256_add_ps(a, b); }
static inline RowsF rf_sub(RowsF a, RowsF b) { return _mm256_sub_ps(a, b); }
static inline RowsF rf_f16(const uint16_t* h) {
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(h)));
}
#endif

// The 4 bytes at q, broadcast to every lane.
static inline RowsI ri_bcast4(const int8_t* q) {
  int32_t v;
  std::memcpy(&v, q, 4);
  return ri_set1(v);
}
