// x86 dot products of the K-quants (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) with block_q8_K activations.
//
// Each super-block gets 16 i16 scales sc (one per sub-block of 16 values; the 32-value sub-blocks of Q4_K/Q5_K
// are repeated) and 16 i16 mins mn, and is unpacked one half (128 values) at a time into 4 vectors of 32
// unsigned bytes u (values 0..63, in activation order) — half a super-block keeps AVX2's 16 registers from
// spilling — with x = d * sc[j] * u - dm * mn[j] (the offsets of Q3_K / Q6_K become mins of 4*sc / 32*sc,
// exactly as in gemm_scalar.cpp). Then, per activation row:
//   isum = Σ_g madd(maddubs(u[g], q[g]), scale vector of g)     (vpmaddubsw: u < 64, no saturation)
//   msum = madd(bsums, mn)
//   Σ += d * da * isum - dm * da * msum

struct WK {
  __m256i sc;  // 16 x i16
  __m256i mn;  // 16 x i16
  float d, dm;
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
  k.d = f16_to_f32(b.d);
  k.dm = f16_to_f32(b.dmin);
}
static inline void k_half(const block_q2_K& b, int h, __m256i u[4]) {
  const __m256i q = load256(b.qs + 32 * h);
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) u[j] = bits(q, 2 * j, 3);
}

// ---- Q3_K: 2 low bits + a high bit (value + 4), 6-bit scales - 32 ----
static inline void k_scales(const block_q3_K& b, WK& k) {
  uint32_t a[3];
  std::memcpy(a, b.scales, 12);
  const uint32_t lo = 0x0f0f0f0f, hi = 0x03030303;
  const __m128i s = _mm_set_epi32(static_cast<int>(((a[1] >> 4) & lo) | (((a[2] >> 6) & hi) << 4)),
                                  static_cast<int>(((a[0] >> 4) & lo) | (((a[2] >> 4) & hi) << 4)),
                                  static_cast<int>((a[1] & lo) | (((a[2] >> 2) & hi) << 4)),
                                  static_cast<int>((a[0] & lo) | ((a[2] & hi) << 4)));
  k.sc = _mm256_cvtepi8_epi16(_mm_sub_epi8(s, _mm_set1_epi8(32)));
  k.mn = _mm256_slli_epi16(k.sc, 2);
  k.d = k.dm = f16_to_f32(b.d);
}
static inline void k_half(const block_q3_K& b, int h, __m256i u[4]) {
  const __m256i hm = load256(b.hmask), q = load256(b.qs + 32 * h);
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) u[j] = _mm256_or_si256(bits(q, 2 * j, 3), move_bit(hm, 4 * h + j, 2));
}

// ---- Q4_K / Q5_K: 8 six-bit scales and mins, each repeated for the two halves of its 32 values ----
static inline void k4_scales(const uint8_t* s12, WK& k) {
  uint32_t a[3];
  std::memcpy(a, s12, 12);
  const uint32_t m6 = 0x3f3f3f3f, lo = 0x0f0f0f0f, hi = 0x03030303;
  const __m128i sc = _mm_set_epi32(0, 0, static_cast<int>((a[2] & lo) | (((a[0] >> 6) & hi) << 4)),
                                   static_cast<int>(a[0] & m6));
  const __m128i mn = _mm_set_epi32(0, 0, static_cast<int>(((a[2] >> 4) & lo) | (((a[1] >> 6) & hi) << 4)),
                                   static_cast<int>(a[1] & m6));
  k.sc = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(sc, sc));
  k.mn = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mn, mn));
}
static inline void k_scales(const block_q4_K& b, WK& k) {
  k4_scales(b.scales, k);
  k.d = f16_to_f32(b.d);
  k.dm = f16_to_f32(b.dmin);
}
static inline void k_half(const block_q4_K& b, int h, __m256i u[4]) {
#pragma GCC unroll 2
  for (int c = 0; c < 2; ++c) {
    const __m256i q = load256(b.qs + 64 * h + 32 * c);
    u[2 * c] = _mm256_and_si256(q, mask8(15));
    u[2 * c + 1] = bits(q, 4, 15);
  }
}
static inline void k_scales(const block_q5_K& b, WK& k) {
  k4_scales(b.scales, k);
  k.d = f16_to_f32(b.d);
  k.dm = f16_to_f32(b.dmin);
}
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

// ---- Q6_K: 4 low bits + 2 high bits (value + 32), int8 scales ----
static inline void k_scales(const block_q6_K& b, WK& k) {
  k.sc = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
  k.mn = _mm256_slli_epi16(k.sc, 5);
  k.d = k.dm = f16_to_f32(b.d);
}
static inline void k_half(const block_q6_K& b, int h, __m256i u[4]) {
  const __m256i l0 = load256(b.ql + 64 * h), l1 = load256(b.ql + 64 * h + 32), hq = load256(b.qh + 32 * h);
  u[0] = _mm256_or_si256(_mm256_and_si256(l0, mask8(15)), _mm256_slli_epi16(_mm256_and_si256(hq, mask8(0x03)), 4));
  u[1] = _mm256_or_si256(_mm256_and_si256(l1, mask8(15)), _mm256_slli_epi16(_mm256_and_si256(hq, mask8(0x0c)), 2));
  u[2] = _mm256_or_si256(bits(l0, 4, 15), _mm256_and_si256(hq, mask8(0x30)));
  u[3] = _mm256_or_si256(bits(l1, 4, 15), bits(hq, 2, 0x30));
}

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

template <class B>
struct KKernel {
  static constexpr int R = 1;
  static constexpr int C = 4;  // bound by the multiply pipes (2 per 32 MACs), not by the unpacking, at 4
  // Q3_K and Q6_K store an offset, not a min: their "min" uses d itself.
  static constexpr bool kOffset = __is_same(B, block_q3_K) || __is_same(B, block_q6_K);

  template <int Rr, int Cc>
  static void run(int64_t n, const uint8_t* w, size_t, const uint8_t* a, size_t as, float* y, size_t ldy) {
    static_assert(Rr == 1);
    const auto* wb = reinterpret_cast<const B*>(w);
    const block_q8_K* ab[Cc];
#pragma GCC unroll 8
    for (int c = 0; c < Cc; ++c) ab[c] = reinterpret_cast<const block_q8_K*>(a + c * as);
    __m256 acc[Cc];
#pragma GCC unroll 8
    for (int c = 0; c < Cc; ++c) acc[c] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / QK_K; ++i) {
      WK k;
      k_scales(wb[i], k);
      __m256i isum[Cc];
#pragma GCC unroll 8
      for (int c = 0; c < Cc; ++c) isum[c] = _mm256_setzero_si256();
#pragma GCC unroll 2
      for (int h = 0; h < 2; ++h) {
        __m256i u[4], gs[4];
        k_half(wb[i], h, u);
        half_scales(k.sc, h, gs);
#pragma GCC unroll 8
        for (int c = 0; c < Cc; ++c) {
          const int8_t* q = ab[c][i].qs + 128 * h;
          // two chains (even / odd groups) to halve the dependent vpdpwssd latency
          const __m256i s0 = madd_acc(isum[c], _mm256_maddubs_epi16(u[0], load256(q)), gs[0]);
          const __m256i s1 = _mm256_madd_epi16(_mm256_maddubs_epi16(u[1], load256(q + 32)), gs[1]);
          isum[c] = _mm256_add_epi32(madd_acc(s0, _mm256_maddubs_epi16(u[2], load256(q + 64)), gs[2]),
                                     madd_acc(s1, _mm256_maddubs_epi16(u[3], load256(q + 96)), gs[3]));
        }
      }
#pragma GCC unroll 8
      for (int c = 0; c < Cc; ++c) {
        const block_q8_K& q = ab[c][i];
        const __m256i msum = _mm256_madd_epi16(load256(q.bsums), k.mn);
        if constexpr (kOffset) {  // dm == d: subtract the offset in integers
          acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(isum[c], msum)), _mm256_set1_ps(k.d * q.d), acc[c]);
        } else {
          acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[c]), _mm256_set1_ps(k.d * q.d), acc[c]);
          acc[c] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(msum), _mm256_set1_ps(k.dm * q.d), acc[c]);
        }
      }
    }
#pragma GCC unroll 8
    for (int c = 0; c < Cc; ++c) y[c * ldy] = hsum(acc[c]);
  }
};
