// x86 dot products of the K-quants (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) with block_q8_K activations.
//
// Each super-block gets 16 i16 scales sc (one per sub-block of 16 values; the 32-value sub-blocks of Q4_K/Q5_K
// are repeated) and 16 i16 mins mn, and is unpacked one half (128 values) at a time into 4 vectors of 32
// unsigned bytes u (values 0..63, in activation order) — half a super-block keeps AVX2's 16 registers from
// spilling — with x = d * sc[j] * u - dm * mn[j] (the offsets of Q3_K / Q6_K become mins of 4*sc / 32*sc,
// exactly as in gemm_scalar.cpp). Then, per activation row, the exact integer sums (8 lanes each)
//   isum = Σ_g madd(maddubs(u[g], q[g]), scale vector of g)     (vpmaddubsw: u < 64, no saturation)
//   msum = madd(bsums, mn)
// The float steps follow the canonical order of gemm_impl.h, for 4 outputs (4 rows of one token in decode,
// one row of 4 tokens in prefill) at once: their isum and msum are reduced into one vector
// [I0 M0 I1 M1 | I2 M2 I3 M3], multiplied by [d·da, dm·da] pairs, and v = (d·da)·I - (dm·da)·M of each output
// is added to its accumulator lane (0, 2, 4, 6) in block order.

struct WK {
  __m256i sc;  // 16 x i16
  __m256i mn;  // 16 x i16
};

static inline __m256i mask8(int v) { return _mm256_set1_epi8(static_cast<char>(v)); }

// Bits `shift`.. of every byte, masked to `mask`.
static inline __m256i bits(__m256i x, int shift, int mask) {
  if (shift == 0) return _mm256_and_si256(x, mask8(mask));
  return _mm256_and_si256(_mm256_srli_epi16(x, shift), mask8(mask));
}

// Bit `from` of every byte moved to bit `to`, everything else cleared (one shift, one and; the 16-bit shifts
// leak bits across bytes only into positions the mask clears).
static inline __m256i move_bit(__m256i x, int from, int to) {
  if (from > to) x = _mm256_srli_epi16(x, from - to);
  if (from < to) x = _mm256_slli_epi16(x, to - from);
  return _mm256_and_si256(x, mask8(1 << to));
}

// ---- Q2_K: 2-bit values, 4-bit scales and mins ----
static inline void k_scales(const block_q2_K& b, WK& k) {
  const __m128i s = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales));
  k.sc = _mm256_cvtepu8_epi16(_mm_and_si128(s, _mm_set1_epi8(15)));
  k.mn = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s, 4), _mm_set1_epi8(15)));
}
static inline void k_half(const block_q2_K& b, int h, __m256i u[4]) {
  const __m256i q = load256(b.qs + 32 * h);
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) u[j] = bits(q, 2 * j, 3);
}

// ---- Q3_K: 2 low bits + a high bit (value + 4), 6-bit scales - 32 ----
// The 16 scales as signed bytes. l[j] = low nibble (j < 8: of s[j], else the high nibble of s[j - 8]) | bits
// 2*(j/4).. of s[8 + j%4] << 4, minus 32, all in vector registers (the decode kernel works on 8 rows at once:
// general registers are scarce there).
static inline __m128i k3_scales_s8(const block_q3_K& b) {
  const __m128i s07 = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.scales));
  const __m128i lo = _mm_and_si128(_mm_unpacklo_epi64(s07, _mm_srli_epi16(s07, 4)), _mm_set1_epi8(15));
  const __m128i s811 = _mm_shuffle_epi32(_mm_loadu_si32(b.scales + 8), 0);
  const __m128i hi = _mm_and_si128(_mm_srlv_epi32(s811, _mm_setr_epi32(0, 2, 4, 6)), _mm_set1_epi8(3));
  return _mm_sub_epi8(_mm_or_si128(lo, _mm_slli_epi16(hi, 4)), _mm_set1_epi8(32));
}
static inline void k_scales(const block_q3_K& b, WK& k) {
  k.sc = _mm256_cvtepi8_epi16(k3_scales_s8(b));
  k.mn = _mm256_slli_epi16(k.sc, 2);
}
static inline void k_half(const block_q3_K& b, int h, __m256i u[4]) {
  const __m256i hm = load256(b.hmask), q = load256(b.qs + 32 * h);
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) u[j] = _mm256_or_si256(bits(q, 2 * j, 3), move_bit(hm, 4 * h + j, 2));
}

// ---- Q4_K / Q5_K: 8 six-bit scales and mins, each repeated for the two halves of its 32 values ----
static inline void k4_scales(const uint8_t* s12, WK& k) {
  // In 32-bit lanes a0 = s[0..3], a1 = s[4..7], a2 = s[8..11]:
  //   sc = [a0 & 0x3f.., (a2 & 0x0f..) | ((a0 >> 6) & 0x03..) << 4],  mn = [a1 & 0x3f.., (a2 >> 4 & 0x0f..) | ((a1 >> 6) & 0x03..) << 4]
  // all in vector registers (the decode kernel works on 8 rows at once: general registers are scarce there).
  const __m128i v = _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(s12)), _mm_loadu_si32(s12 + 8));
  const __m128i low6 = _mm_and_si128(v, _mm_set1_epi8(0x3f));                                  // lanes 0, 1
  const __m128i a2 = _mm_srlv_epi32(_mm_shuffle_epi32(v, 0xaa), _mm_setr_epi32(0, 4, 0, 0));  // [a2, a2 >> 4]
  const __m128i top = _mm_slli_epi32(_mm_and_si128(_mm_srli_epi32(v, 6), _mm_set1_epi8(3)), 4);
  const __m128i high6 = _mm_or_si128(_mm_and_si128(a2, _mm_set1_epi8(15)), top);                // lanes 0, 1
  const __m128i scm = _mm_unpacklo_epi32(low6, high6);  // bytes 0..7: sc[0..7], 8..15: mn[0..7]
  k.sc = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(scm, scm));
  k.mn = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(scm, scm));
}
// The same for two rows at once, one in each 128-bit lane (the packed prefill kernel takes rows in pairs; the
// per-row kernels use k4_row_scales below).
static inline void k4_scales2(const uint8_t* sa, const uint8_t* sb, WK& ka, WK& kb) {
  const __m128i va = _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sa)), _mm_loadu_si32(sa + 8));
  const __m128i vb = _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sb)), _mm_loadu_si32(sb + 8));
  const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(va), vb, 1);
  const __m256i low6 = _mm256_and_si256(v, mask8(0x3f));
  const __m256i a2 = _mm256_srlv_epi32(_mm256_shuffle_epi32(v, 0xaa), _mm256_setr_epi32(0, 4, 0, 0, 0, 4, 0, 0));
  const __m256i top = _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(v, 6), mask8(3)), 4);
  const __m256i high6 = _mm256_or_si256(_mm256_and_si256(a2, mask8(15)), top);
  const __m256i scm = _mm256_unpacklo_epi32(low6, high6);  // per lane: bytes 0..7 sc[0..7], 8..15 mn[0..7]
  const __m256i sc2 = _mm256_unpacklo_epi8(scm, scm), mn2 = _mm256_unpackhi_epi8(scm, scm);
  ka.sc = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(sc2));
  kb.sc = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(sc2, 1));
  ka.mn = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(mn2));
  kb.mn = _mm256_cvtepu8_epi16(_mm256_extracti128_si256(mn2, 1));
}
static inline void k_scales(const block_q4_K& b, WK& k) { k4_scales(b.scales, k); }
static inline void k_half(const block_q4_K& b, int h, __m256i u[4]) {
#pragma GCC unroll 2
  for (int c = 0; c < 2; ++c) {
    const __m256i q = load256(b.qs + 64 * h + 32 * c);
    u[2 * c] = _mm256_and_si256(q, mask8(15));
    u[2 * c + 1] = bits(q, 4, 15);
  }
}
static inline void k_scales(const block_q5_K& b, WK& k) { k4_scales(b.scales, k); }
static inline void k_half(const block_q5_K& b, int h, __m256i u[4]) {
  const __m256i hm = load256(b.qh);
#pragma GCC unroll 2
  for (int c = 0; c < 2; ++c) {
    const int j = 4 * h + 2 * c;  // sub-block of 32 = bit of qh
    const __m256i q = load256(b.qs + 64 * h + 32 * c);
    u[2 * c] = _mm256_or_si256(_mm256_and_si256(q, mask8(15)), move_bit(hm, j, 4));
    u[2 * c + 1] = _mm256_or_si256(bits(q, 4, 15), move_bit(hm, j + 1, 4));
  }
}

// Two rows' scales: k4_scales2 where the layout allows, else one row after the other.
template <class B>
static inline void k_scales_pair(const B& a, const B& b, WK& ka, WK& kb) {
  if constexpr (std::is_same_v<B, block_q4_K> || std::is_same_v<B, block_q5_K>) {
    k4_scales2(a.scales, b.scales, ka, kb);
  } else {
    k_scales(a, ka);
    k_scales(b, kb);
  }
}

// ---- Q6_K: 4 low bits + 2 high bits (value + 32), int8 scales ----
static inline void k_scales(const block_q6_K& b, WK& k) {
  k.sc = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
  k.mn = _mm256_slli_epi16(k.sc, 5);
}
static inline void k_half(const block_q6_K& b, int h, __m256i u[4]) {
  const __m256i l0 = load256(b.ql + 64 * h), l1 = load256(b.ql + 64 * h + 32), hq = load256(b.qh + 32 * h);
  u[0] = _mm256_or_si256(_mm256_and_si256(l0, mask8(15)), _mm256_slli_epi16(_mm256_and_si256(hq, mask8(0x03)), 4));
  u[1] = _mm256_or_si256(_mm256_and_si256(l1, mask8(15)), _mm256_slli_epi16(_mm256_and_si256(hq, mask8(0x0c)), 2));
  u[2] = _mm256_or_si256(bits(l0, 4, 15), _mm256_and_si256(hq, mask8(0x30)));
  u[3] = _mm256_or_si256(bits(l1, 4, 15), bits(hq, 2, 0x30));
}

#if PRIMA_VNNI
// Scale vectors for the 2 pairs of groups of half h, matching vpackssdw(p_a, p_b) of the 4-product sums of
// groups a = 4h + 2k and b = a + 1 (i16 lanes 0-3: a's first 16 values, 4-7: b's first 16, 8-11: a's second
// 16, 12-15: b's second 16): [sc[2a] x4, sc[2b] x4 | sc[2a+1] x4, sc[2b+1] x4].
static inline void half_scales(__m256i sc, int h, __m256i out[2]) {
  const __m256i s = h == 0 ? _mm256_permute4x64_epi64(sc, 0x44) : _mm256_permute4x64_epi64(sc, 0xee);
#pragma GCC unroll 2
  for (int k = 0; k < 2; ++k) {
    auto pick = [](int e) { return static_cast<char>(2 * e); };  // low byte of i16 element e (high: + 1)
    const int a0 = 4 * k, b0 = 4 * k + 2, a1 = 4 * k + 1, b1 = 4 * k + 3;  // elements of s (sc[8h + ...])
    const __m256i ctl = _mm256_setr_epi8(
        pick(a0), pick(a0) + 1, pick(a0), pick(a0) + 1, pick(a0), pick(a0) + 1, pick(a0), pick(a0) + 1,
        pick(b0), pick(b0) + 1, pick(b0), pick(b0) + 1, pick(b0), pick(b0) + 1, pick(b0), pick(b0) + 1,
        pick(a1), pick(a1) + 1, pick(a1), pick(a1) + 1, pick(a1), pick(a1) + 1, pick(a1), pick(a1) + 1,
        pick(b1), pick(b1) + 1, pick(b1), pick(b1) + 1, pick(b1), pick(b1) + 1, pick(b1), pick(b1) + 1);
    out[k] = _mm256_shuffle_epi8(s, ctl);
  }
}
#else
// Scale vectors for the 4 groups of 32 values of half h: i16 lanes 0..7 hold sc[2g], lanes 8..15 sc[2g + 1].
static inline void half_scales(__m256i sc, int h, __m256i out[4]) {
  const __m256i s = h == 0 ? _mm256_permute4x64_epi64(sc, 0x44) : _mm256_permute4x64_epi64(sc, 0xee);
#pragma GCC unroll 4
  for (int g = 0; g < 4; ++g) {
    const short b0 = static_cast<short>((4 * g) | ((4 * g + 1) << 8));
    const short b1 = static_cast<short>((4 * g + 2) | ((4 * g + 3) << 8));
    out[g] = _mm256_shuffle_epi8(s, _mm256_set_m128i(_mm_set1_epi16(b1), _mm_set1_epi16(b0)));
  }
}
#endif

// One row's super-block scales as the per-row kernels multiply them: gs[h] for half h (half_scales) and mn for
// madd(bsums, mn).
#if PRIMA_VNNI
constexpr int kHalfScales = 2;
#else
constexpr int kHalfScales = 4;
#endif
struct RowScales {
  __m256i gs[2][kHalfScales];
  __m256i mn;
};

template <class B>
static inline void row_scales(const B& b, RowScales& rs) {
  WK k;
  k_scales(b, k);
  half_scales(k.sc, 0, rs.gs[0]);
  half_scales(k.sc, 1, rs.gs[1]);
  rs.mn = k.mn;
}

// Q4_K / Q5_K: the 6-bit scales and mins straight into those vectors with in-lane operations only — broadcast
// loads, and / shift / blend, vpshufb with zero high bytes — instead of k4_scales' widening and the cross-lane
// permutes of half_scales (which made the Q4_K decode kernel 1.3x slower on Zen 4: shuffle-bound).
// Every 128-bit lane of k4_v: bytes 0..3 sc[0..3] and 4..7 mn[0..3]; 8..11 sc[4..7] and 12..15 mn[4..7].
static inline __m256i k4_v(const uint8_t* s12) {
  // Every 128-bit lane: dwords q01 = [a0 a1 a0 a1], b2 = [a2 a2 a2 a2] (a0 = s[0..3], a1 = s[4..7], a2 = s[8..11]).
  long long a01;
  int a2;
  std::memcpy(&a01, s12, 8);
  std::memcpy(&a2, s12 + 8, 4);
  const __m256i q01 = _mm256_set1_epi64x(a01), b2 = _mm256_set1_epi32(a2);
  // Bytes of every lane: 0..3 sc[0..3] and 4..7 mn[0..3] (a0, a1 & 0x3f..); 8..11 sc[4..7] = (a2 & 0x0f..) |
  // (a0 >> 2 & 0x30..) and 12..15 mn[4..7] = (a2 >> 4 & 0x0f..) | (a1 >> 2 & 0x30..).
  const __m256i low6 = _mm256_and_si256(q01, mask8(0x3f));
  const __m256i top = _mm256_and_si256(_mm256_srli_epi32(q01, 2), mask8(0x30));
  const __m256i nib = _mm256_and_si256(_mm256_srlv_epi32(b2, _mm256_setr_epi32(0, 0, 0, 4, 0, 0, 0, 4)), mask8(15));
  return _mm256_blend_epi32(low6, _mm256_or_si256(nib, top), 0xcc);
}
// The mins of k4_v's bytes as RowScales::mn: mn[j] in i16 lanes 2j and 2j + 1 (lane 0: j < 4, lane 1: j >= 4).
static inline __m256i k4_mn(__m256i v) {
  auto m = [](int j) { return static_cast<char>((j < 4 ? j : 4 + j) + 4); };  // byte of mn[j]
  constexpr char z = static_cast<char>(0x80);
  return _mm256_shuffle_epi8(v, _mm256_setr_epi8(m(0), z, m(0), z, m(1), z, m(1), z, m(2), z, m(2), z, m(3), z, m(3), z,
                                                 m(4), z, m(4), z, m(5), z, m(5), z, m(6), z, m(6), z, m(7), z, m(7), z));
}
static inline void k4_row_scales(const uint8_t* s12, RowScales& rs) {
  const __m256i v = k4_v(s12);
  auto sc = [](int j) { return static_cast<char>(j < 4 ? j : 4 + j); };  // byte of sc[j] (mn[j]: + 4)
  constexpr char z = static_cast<char>(0x80);                              // vpshufb: a zero byte
  // half_scales' layout for the kHalfScales vectors of half h: with VNNI groups a = 4h + 2k and a + 1, each i16
  // x4 in both lanes; without, group a = 4h + k in all 16 lanes.
#pragma GCC unroll 2
  for (int h = 0; h < 2; ++h) {
#pragma GCC unroll 4
    for (int k = 0; k < kHalfScales; ++k) {
      const int g = 4 * h + k * (4 / kHalfScales);
      const char a = sc(g), b = sc(kHalfScales == 2 ? g + 1 : g);
      rs.gs[h][k] = _mm256_shuffle_epi8(v, _mm256_setr_epi8(a, z, a, z, a, z, a, z, b, z, b, z, b, z, b, z,
                                                            a, z, a, z, a, z, a, z, b, z, b, z, b, z, b, z));
    }
  }
  rs.mn = k4_mn(v);
}
static inline void row_scales(const block_q4_K& b, RowScales& rs) { k4_row_scales(b.scales, rs); }
static inline void row_scales(const block_q5_K& b, RowScales& rs) { k4_row_scales(b.scales, rs); }

// d (low half) and dm (high half) of a super-block as two f16 in one 32-bit word.
static inline uint32_t k_dpair(const block_q2_K& b) { return b.d | static_cast<uint32_t>(b.dmin) << 16; }
static inline uint32_t k_dpair(const block_q3_K& b) { return b.d | static_cast<uint32_t>(b.d) << 16; }
static inline uint32_t k_dpair(const block_q4_K& b) { return b.d | static_cast<uint32_t>(b.dmin) << 16; }
static inline uint32_t k_dpair(const block_q5_K& b) { return b.d | static_cast<uint32_t>(b.dmin) << 16; }
static inline uint32_t k_dpair(const block_q6_K& b) { return b.d | static_cast<uint32_t>(b.d) << 16; }

#include "kernels/x86_gemm_k_packed.inl"
#if defined(__AVX512F__)
#include "kernels/x86_gemm_k_zdecode.inl"
#endif

template <class B>
struct KKernel {
  // Short prefill (fewer tokens than the packed kernel takes): up to C activation rows per pass against
  // kPrefillRows weight rows (8 outputs: two vectors of 4); 8 × 1 measured best (AVX2 +10 %, AVX-512 +5 % over
  // 4 × 2) when this was the only prefill kernel.
  static constexpr int C = 8;
  static constexpr int kPrefillRows = 8 / C;
  static constexpr int16_t kTileTokens = KPacker<B>::kTokens;  // the packed kernel blocks the row (tile_packed)

  // Super-block wb (its scales in rs) against super-block i of Cc activation rows:
  // hv[c] = sum_pairs(isum_c, msum_c).
  template <int Cc>
  static inline __attribute__((always_inline)) void row_sums(const B& wb, const RowScales& rs,
                                                             const block_q8_K* const* ab, int64_t i, __m256i* hv) {
    __m256i isum[Cc];
#pragma GCC unroll 8
    for (int c = 0; c < Cc; ++c) isum[c] = _mm256_setzero_si256();
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      __m256i u[4];
      const __m256i* gs = rs.gs[h];
      k_half(wb, h, u);
#pragma GCC unroll 8
      for (int c = 0; c < Cc; ++c) {
        const int8_t* q = ab[c][i].qs + 128 * h;
#if PRIMA_VNNI
        // 4-product sums per group (vpdpbusd, < 2^15: u < 64), two groups narrowed into one vector (vpackssdw,
        // never saturates) and multiplied by their scales: 3 multiplies per 64 values instead of 4.
        const __m256i p0 = dpbusd(_mm256_setzero_si256(), u[0], load256(q));
        const __m256i p1 = dpbusd(_mm256_setzero_si256(), u[1], load256(q + 32));
        const __m256i p2 = dpbusd(_mm256_setzero_si256(), u[2], load256(q + 64));
        const __m256i p3 = dpbusd(_mm256_setzero_si256(), u[3], load256(q + 96));
        isum[c] = dpwssd(dpwssd(isum[c], _mm256_packs_epi32(p0, p1), gs[0]),
                                      _mm256_packs_epi32(p2, p3), gs[1]);
#else
        // two chains (even / odd groups) to halve the dependent vpdpwssd latency
        const __m256i s0 = madd_acc(isum[c], _mm256_maddubs_epi16(u[0], load256(q)), gs[0]);
        const __m256i s1 = _mm256_madd_epi16(_mm256_maddubs_epi16(u[1], load256(q + 32)), gs[1]);
        isum[c] = _mm256_add_epi32(madd_acc(s0, _mm256_maddubs_epi16(u[2], load256(q + 64)), gs[2]),
                                   madd_acc(s1, _mm256_maddubs_epi16(u[3], load256(q + 96)), gs[3]));
#endif
      }
    }
#pragma GCC unroll 8
    for (int c = 0; c < Cc; ++c) {
      const __m256i msum = _mm256_madd_epi16(load256(ab[c][i].bsums), rs.mn);
      hv[c] = sum_pairs(isum[c], msum);
    }
  }

  // Outputs o = r * Cc + c (Rr * Cc <= 8) of rows w[r] and activation rows ab[c]: out[o]. dav (Cc > 1, or null):
  // per block, 2 * C floats [da0 da0 da1 da1 ...] of the activation rows, built once per group of them.
  // Outputs 4h..4h+3 share one vector [I M I M | I M I M] (h < 2): two groups give the out-of-order core two
  // independent chains of reductions and float steps per block.
  template <int Rr, int Cc>
  static void run(int64_t n, const B* const* w, const block_q8_K* const* ab, float* out, const float* dav) {
    static_assert(Rr * Cc <= 8 && (Cc == 1 || Cc == 2 || Cc == 4 || Rr == 1));
    constexpr int H = (Rr * Cc + 3) / 4;
    __m256 acc[H];
#pragma GCC unroll 2
    for (int h = 0; h < H; ++h) acc[h] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; ++i) {
      __m256i hv[4 * H];
      if constexpr (Rr == 8 && Cc == 1 && !std::is_same_v<B, block_q2_K>) {  // decode (x86_common.inl)
#pragma GCC unroll 8
        for (int r = 0; r < Rr; ++r) prefetch_ahead_l2(&w[r][i]);
      }
#if defined(__AVX512F__)
      if constexpr (Rr == 8 && Cc == 1 && ZK<B>::kHas) {  // decode: whole super-blocks in zmm (x86_gemm_k_zdecode.inl)
        __m512i az[4];
        zk_act<B>(ab[0][i].qs, az);
#pragma GCC unroll 8
        for (int r = 0; r < Rr; ++r) hv[r] = zk_row_sums(w[r][i], az, ab[0][i].bsums);
      } else
#endif
#pragma GCC unroll 8
      for (int r = 0; r < Rr; ++r) {
        RowScales rs;
        row_scales(w[r][i], rs);
        row_sums<Cc>(w[r][i], rs, ab, i, hv + r * Cc);
      }
#pragma GCC unroll 8
      for (int o = Rr * Cc; o < 4 * H; ++o) hv[o] = _mm256_setzero_si256();
#pragma GCC unroll 2
      for (int h = 0; h < H; ++h) {
        const __m256i x = sum_quads(hv[4 * h], hv[4 * h + 1]), z = sum_quads(hv[4 * h + 2], hv[4 * h + 3]);
        const __m256i t = _mm256_add_epi32(_mm256_permute2x128_si256(x, z, 0x20), _mm256_permute2x128_si256(x, z, 0x31));
        // [d, dm] of each output's weight row, and [da, da] of its activation row
        __m256 dv, av;
        if constexpr (Rr == 1 || Cc == 4) {
          dv = _mm256_cvtph_ps(_mm_set1_epi32(static_cast<int>(k_dpair(w[Rr == 1 ? 0 : h][i]))));
        } else {
          uint32_t p[4];
#pragma GCC unroll 4
          for (int k = 0; k < 4; ++k) p[k] = k_dpair(w[min_int((4 * h + k) / Cc, Rr - 1)][i]);
          dv = _mm256_cvtph_ps(_mm_setr_epi32(static_cast<int>(p[0]), static_cast<int>(p[1]), static_cast<int>(p[2]),
                                              static_cast<int>(p[3])));
        }
        if constexpr (Cc == 1) {
          av = _mm256_set1_ps(ab[0][i].d);
        } else {
          const int c0 = Cc > 4 ? 4 * h : 0;  // the group's first activation row
          if (dav) {
            av = _mm256_load_ps(dav + i * 2 * C + 2 * c0);
          } else {
            float da[4] = {};
#pragma GCC unroll 4
            for (int k = 0; k < 4; ++k) da[k] = c0 + k < Cc ? ab[c0 + k][i].d : 0.0f;
            av = _mm256_setr_ps(da[0], da[0], da[1], da[1], da[2], da[2], da[3], da[3]);
          }
          if constexpr (Cc == 2) av = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(av), 0x44));
        }
        const __m256 pr = _mm256_mul_ps(_mm256_mul_ps(dv, av), _mm256_cvtepi32_ps(t));  // (d·da)·I, (dm·da)·M
        acc[h] = _mm256_add_ps(acc[h], _mm256_sub_ps(pr, _mm256_movehdup_ps(pr)));
      }
    }
    float lanes[8 * H];
#pragma GCC unroll 2
    for (int h = 0; h < H; ++h) _mm256_storeu_ps(lanes + 8 * h, acc[h]);
#pragma GCC unroll 8
    for (int o = 0; o < Rr * Cc; ++o) out[o] = lanes[2 * o];
  }

  static void tile(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int nc, float* y,
                   size_t ldy) {
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* ab = static_cast<const uint8_t*>(a);
    auto row = [&](int r) { return reinterpret_cast<const B*>(wb + r * ws); };
    float out[8];
    if (nc == 1) {
      // Decode: 8 weight rows at a time, taken from 8 eighths of the tile (rows k*q + j, k < 8, j < q) so that
      // each lane reads one long sequential stream (the hardware prefetchers follow 8 of those; 8 adjacent
      // rows would be 8 short streams restarting every group). Past the tile's end a lane repeats its last row.
      const block_q8_K* a0[1] = {reinterpret_cast<const block_q8_K*>(ab)};
      const int q = (nr + 7) / 8;
      for (int j = 0; j < q; ++j) {
        const B* wr[8];
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) wr[k] = row(min_int(k * q + j, nr - 1));
        run<8, 1>(n, wr, a0, out, nullptr);
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k)
          if (k * q + j < nr) y[k * q + j] = out[k];
      }
      return;
    }
    if (nc >= kPackMinTokens) {  // enough tokens to pay for packing 8 rows (x86_gemm_k_packed.inl)
      tile_packed<KPacker<B>>(n / QK_K, wb, ws, nr, ab, as, nc, y, ldy);
      return;
    }
    // Prefill of 2 .. kPackMinTokens - 1 tokens (too few to pay for packing 8 rows): the nc <= C activation rows
    // (kept in L1) against the weight rows (streamed from L2), in one pass.
    static_assert(kPackMinTokens <= C, "one pass of the per-row kernel covers every count the packed one leaves");
    constexpr int64_t kMaxBlocks = 128;  // rows up to 32768 values get their da vectors precomputed
    const int64_t nb = n / QK_K;
    alignas(32) float dav[kMaxBlocks * 2 * C];
    const int cc = nc;
    const block_q8_K* ac[C];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) ac[c] = reinterpret_cast<const block_q8_K*>(ab + min_int(c, nc - 1) * as);
    if (nb <= kMaxBlocks) {
      for (int64_t i = 0; i < nb; ++i)
        for (int c = 0; c < C; ++c) dav[i * 2 * C + 2 * c] = dav[i * 2 * C + 2 * c + 1] = ac[c][i].d;
    }
    const float* da = nb <= kMaxBlocks ? dav : nullptr;
    for (int r = 0; r < nr; r += kPrefillRows) {
      const B* wr[kPrefillRows];
#pragma GCC unroll 2
      for (int k = 0; k < kPrefillRows; ++k) wr[k] = row(min_int(r + k, nr - 1));
      const int rr = min_int(kPrefillRows, nr - r);
      switch (cc) {
        case 2: run<kPrefillRows, 2>(n, wr, ac, out, da); break;
        case 4: run<kPrefillRows, 4>(n, wr, ac, out, da); break;
        default:  // 3, 5, 6, 7: one row at a time
          for (int k = 0; k < rr; ++k) {
            switch (cc) {
              case 3: run<1, 3>(n, wr + k, ac, out + k * cc, da); break;
              case 5: run<1, 5>(n, wr + k, ac, out + k * cc, da); break;
              case 6: run<1, 6>(n, wr + k, ac, out + k * cc, da); break;
              default: run<1, 7>(n, wr + k, ac, out + k * cc, da); break;
            }
          }
          break;
      }
      for (int k = 0; k < rr; ++k)
        for (int c = 0; c < cc; ++c) y[c * ldy + r + k] = out[k * cc + c];
    }
  }
};
