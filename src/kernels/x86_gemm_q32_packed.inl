// Prefill of the 32-value block types: weight rows in vector lanes, activations broadcast. Included by
// x86_gemm_q32.inl (after Q32<B>, before Q32Kernel, which calls it through tile_packed for tiles of many tokens).
//
// The per-row kernel (Q32Kernel::run) unpacks and transposes each block of its 8 rows for every 8 tokens. Here a
// block of 8 rows is unpacked and transposed once per chunk and 128 tokens run over it:
//   w[p]   (p < 8): the 4 values 4p..4p+3 of each row r in 32-bit lane r,
//   dw, bw:         the rows' block scales d and biases (kOffset · d, or the min m) as 8 floats,
// and per token 8 vpdpbusd of w[p] with the token's 4 bytes 4p..4p+3 broadcast give the 8 rows' integer sums in
// one vector; the float steps of gemm_impl.h's canonical order then run on the 8 rows at once:
//   v = ((dw · da) · float(isum)) + (bw · s);  acc = acc + v     (lane r = row r)
// Without VNNI (AVX2) the types whose values are 4 or 5 bits (Q4_0, Q4_1, Q5_0, Q5_1) take the same layout through
// vpmaddubsw, two quads added in 16 bits (|sum| <= 8 * 31 * 127 < 2^15), and vpmaddwd by ones to widen; Q8_0 and
// IQ4_NL keep signed values there (the sign trick), which vpmaddubsw cannot take in lanes, and stay on the
// per-row kernel.

#if PRIMA_VNNI
// Σ_p w[p] · (the 4 bytes at q + 4p, broadcast), lane-wise: the 8 rows' integer sums with a token's block when
// w holds the rows' values transposed (w[p] lane r = row r's values 4p..4p+3). Two chains (even / odd p).
static inline __m256i dot_rows_bcast(const __m256i* w, const int8_t* q) {
  __m256i s0 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), w[0], bcast4(q));
  __m256i s1 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), w[1], bcast4(q + 4));
#pragma GCC unroll 3
  for (int k = 2; k < 8; k += 2) {
    s0 = _mm256_dpbusd_epi32(s0, w[k], bcast4(q + 4 * k));
    s1 = _mm256_dpbusd_epi32(s1, w[k + 1], bcast4(q + 4 * k + 4));
  }
  return _mm256_add_epi32(s0, s1);
}
#endif

struct PackedQ32 {
  __m256i w[8];
  __m256 dw, bw;
};

// VNNI: every type (values unsigned); AVX2: the unsigned ones, all below 32.
template <class B>
constexpr bool q32_packed = !Q32<B>::kSigned;

template <class B>
struct Q32Packer {
  static_assert(q32_packed<B>);
  using Block = B;
  using Packed = PackedQ32;
  using Acc = __m256;
  static constexpr int kRows = 8;
  static constexpr int kBlocks = 64;  // 20 KB: L1; the tokens' chunk: 8 block_q8_32x8 groups, 2.8 KB each

  // Blocks i0 .. i0 + nb_chunk - 1 of the 8 rows wr -> pk.
  static void pack(const B* const* wr, int64_t i0, int nb_chunk, PackedQ32* pk) {
    for (int ib = 0; ib < nb_chunk; ++ib) {
      const int64_t i = i0 + ib;
      __m256i u[8];
      alignas(16) uint16_t d[8], m[8];
#pragma GCC unroll 8
      for (int r = 0; r < 8; ++r) {
        u[r] = Q32<B>::values(wr[r][i]);
        d[r] = wr[r][i].d;
        if constexpr (Q32<B>::kMin) m[r] = wr[r][i].m;
      }
      transpose8_epi32(u, pk[ib].w);
      pk[ib].dw = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(d)));
      if constexpr (Q32<B>::kMin) {
        pk[ib].bw = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(m)));
      } else {
        pk[ib].bw = _mm256_mul_ps(pk[ib].dw, _mm256_set1_ps(Q32<B>::kOffset));  // exact
      }
    }
  }

  // T tokens (activation rows act[t], blocks i0..) over nb_chunk packed blocks: acc[t] lane r += row r's terms,
  // in block order.
  template <int T>
  static void run(const PackedQ32* pk, int nb_chunk, const uint8_t* const* act, int64_t i0, __m256* acc) {
    const block_q8_32x8* a[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const block_q8_32x8*>(act[t]);
    for (int ib = 0; ib < nb_chunk; ++ib) {
      const PackedQ32& p = pk[ib];
      const int64_t gi = (i0 + ib) / 8;
      const int b = static_cast<int>((i0 + ib) % 8);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const block_q8_32x8& g = a[t][gi];
        const int8_t* q = g.qs + 32 * b;
#if PRIMA_VNNI
        const __m256i isum = dot_rows_bcast(p.w, q);
#else
        const __m256i ones = _mm256_set1_epi16(1);
        __m256i h[4];
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k)
          h[k] = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(p.w[2 * k], bcast4(q + 8 * k)),
                                                    _mm256_maddubs_epi16(p.w[2 * k + 1], bcast4(q + 8 * k + 4))),
                                   ones);
        const __m256i isum = _mm256_add_epi32(_mm256_add_epi32(h[0], h[1]), _mm256_add_epi32(h[2], h[3]));
#endif
        const __m256 dd = _mm256_mul_ps(p.dw, _mm256_set1_ps(g.d[b]));
        const __m256 v = _mm256_add_ps(_mm256_mul_ps(dd, _mm256_cvtepi32_ps(isum)),
                                       _mm256_mul_ps(p.bw, _mm256_set1_ps(g.s[b])));
        acc[t] = _mm256_add_ps(acc[t], v);
      }
    }
  }
};
