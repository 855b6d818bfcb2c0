// x86 SIMD helpers shared by the AVX2 and AVX-512 kernel tables. Included (inside an anonymous namespace)
// by gemm_avx2.cpp and gemm_avx512.cpp, which compile it with their own flags; everything is static so the
// two never share an out-of-line copy, and neither shares one with baseline code. For the same reason these
// translation units must not call inline functions of other headers (core/fp16.h, std::min, ...): an
// out-of-line copy compiled with AVX flags could be picked by the linker for baseline callers.
//
// With AVX512-VNNI (+VL) the 8-bit products use vpdpbusd / vpdpwssd on 256-bit vectors; without it, the AVX2
// pair vpmaddubsw + vpmaddwd. vpmaddubsw saturates its i16 pair sums, so it is only given unsigned values
// below 64 (K-quants, 4/5-bit nibbles); 8-bit signed weights go through the sign trick instead.

#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define PRIMA_VNNI 1
#else
#define PRIMA_VNNI 0
#endif

static inline float f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }

static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

static inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
  return _mm_cvtsi128_si32(s);
}

static inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// 8 i32: each the sum of 4 adjacent products u8 (u < 64 without VNNI) × s8.
static inline __m256i dot_u8s8(__m256i u, __m256i s) {
#if PRIMA_VNNI
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

// The same for two signed vectors: |a| × (b with a's sign).
static inline __m256i dot_s8s8(__m256i a, __m256i b) {
  return dot_u8s8(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

// acc + (i16 pairs of p) · (i16 pairs of s), as i32.
static inline __m256i madd_acc(__m256i acc, __m256i p, __m256i s) {
#if PRIMA_VNNI
  return _mm256_dpwssd_epi32(acc, p, s);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(p, s));
#endif
}

static inline int min_int(int a, int b) { return a < b ? a : b; }

// Horizontal sums without vphaddd: on Zen 4 it issues one every 2 cycles, against 2 per cycle for the
// unpacks and 4 for the adds that replace it (integer sums: any order gives the same result).
//   sum_pairs(a, b) = [a0+a2, b0+b2, a1+a3, b1+b3 | a4+a6, b4+b6, a5+a7, b5+b7]
//   sum_quads(s, t) of two sum_pairs results = [Σa0..3, Σb0..3, Σc0..3, Σd0..3 | the same of lanes 4..7]
//     (s = sum_pairs(a, b), t = sum_pairs(c, d)): the layout of hadd(hadd(a, b), hadd(c, d)).
static inline __m256i sum_pairs(__m256i a, __m256i b) {
  return _mm256_add_epi32(_mm256_unpacklo_epi32(a, b), _mm256_unpackhi_epi32(a, b));
}
static inline __m256i sum_quads(__m256i s, __m256i t) {
  return _mm256_add_epi32(_mm256_unpacklo_epi64(s, t), _mm256_unpackhi_epi64(s, t));
}

// 8 vectors of 8 i32 -> their transpose (out[k] lane r = in[r] lane k).
static inline void transpose8_epi32(const __m256i in[8], __m256i out[8]) {
  __m256i t[8], s[8];
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    t[2 * k] = _mm256_unpacklo_epi32(in[2 * k], in[2 * k + 1]);
    t[2 * k + 1] = _mm256_unpackhi_epi32(in[2 * k], in[2 * k + 1]);
  }
#pragma GCC unroll 2
  for (int k = 0; k < 2; ++k) {
    s[4 * k] = _mm256_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
    s[4 * k + 1] = _mm256_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
    s[4 * k + 2] = _mm256_unpacklo_epi64(t[4 * k + 1], t[4 * k + 3]);
    s[4 * k + 3] = _mm256_unpackhi_epi64(t[4 * k + 1], t[4 * k + 3]);
  }
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    out[k] = _mm256_permute2x128_si256(s[k], s[k + 4], 0x20);
    out[k + 4] = _mm256_permute2x128_si256(s[k], s[k + 4], 0x31);
  }
}

// The 4 bytes at q in every 32-bit lane.
static inline __m256i bcast4(const int8_t* q) {
  int32_t v;
  std::memcpy(&v, q, 4);
  return _mm256_set1_epi32(v);
}



// ---- tiles ------------------------------------------------------------------------------------------------
// A kernel K provides R (weight rows) and C (activation rows) per register tile and
//   template <int R, int C> static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as,
//                                           float* y, size_t ldy);   // y[c * ldy + r], r < R, c < C
// tile_impl covers any nr × nc with full tiles and remainders.

template <class K, int R>
static inline void run_cols(int cc, int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y,
                            size_t ldy) {
  switch (cc) {
    case 1: K::template run<R, 1>(n, w, ws, a, as, y, ldy); break;
    case 2: if constexpr (K::C >= 2) K::template run<R, 2>(n, w, ws, a, as, y, ldy); break;
    case 3: if constexpr (K::C >= 3) K::template run<R, 3>(n, w, ws, a, as, y, ldy); break;
    case 4: if constexpr (K::C >= 4) K::template run<R, 4>(n, w, ws, a, as, y, ldy); break;
    case 5: if constexpr (K::C >= 5) K::template run<R, 5>(n, w, ws, a, as, y, ldy); break;
    case 6: if constexpr (K::C >= 6) K::template run<R, 6>(n, w, ws, a, as, y, ldy); break;
    case 7: if constexpr (K::C >= 7) K::template run<R, 7>(n, w, ws, a, as, y, ldy); break;
    case 8: if constexpr (K::C >= 8) K::template run<R, 8>(n, w, ws, a, as, y, ldy); break;
    default: break;
  }
}

template <class K>
static void tile_impl(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int nc, float* y,
                      size_t ldy) {
  static_assert(K::C >= 1 && K::C <= 8);
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  for (int c0 = 0; c0 < nc; c0 += K::C) {
    const int cc = min_int(K::C, nc - c0);
    int r = 0;
    for (; r + K::R <= nr; r += K::R) run_cols<K, K::R>(cc, n, wb + r * ws, ws, ab + c0 * as, as, y + c0 * ldy + r, ldy);
    if constexpr (K::R > 1) {
      for (; r < nr; ++r) run_cols<K, 1>(cc, n, wb + r * ws, ws, ab + c0 * as, as, y + c0 * ldy + r, ldy);
    }
  }
}
