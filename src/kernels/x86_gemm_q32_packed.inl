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
// With AVX-512 (VNNI) 16 rows share a zmm (two 8-row packings, one per 256-bit half): Zen 4 runs it as two
// halves, but the broadcasts and float steps per row halve. prefill/<Q4_0, Q5_1, Q8_0> 1.23-1.33x over 8 rows in a
// ymm (2 threads, best of 3 in turns), pp512 of a Llama-3-8B Q8_0 1.44x.
// Without VNNI (AVX2) the types whose values are 4 or 5 bits (Q4_0, Q4_1, Q5_0, Q5_1) take the same layout through
// vpmaddubsw, two quads added in 16 bits (|sum| <= 8 * 31 * 127 < 2^15), and vpmaddwd by ones to widen. Q8_0 and
// IQ4_NL keep signed values there: the packed block holds w and |w|, and vpsignb gives each token's broadcast
// bytes w's sign (PackedQ32S). Before, they ran every prefill on the per-row kernel with the sign trick:
// prefill/Q8_0 and IQ4_NL 1.22-1.27x (2 threads, 4096x4096 and 4096x14336, two rounds in turns).

#if PRIMA_VNNI
// kLaneRows rows per vector (x86_rows.inl): 16 in a zmm with AVX-512 (two 8-row packings, one per 256-bit half),
// as the packed K-quant kernel, so that each broadcast, scale product and float step serves 16 rows; 8 in a ymm
// with AVX-VNNI.
struct PackedQ32 {
  RowsI w[8];
  RowsF dw, bw;
};

// Σ_p w[p] · (the 4 bytes at q + 4p, broadcast), lane-wise: the rows' integer sums with a token's block. Two
// chains (even / odd p).
static inline RowsI dot_lanes_bcast(const RowsI* w, const int8_t* q) {
  RowsI s0 = ri_dpbusd(ri_zero(), w[0], ri_bcast4(q));
  RowsI s1 = ri_dpbusd(ri_zero(), w[1], ri_bcast4(q + 4));
#pragma GCC unroll 3
  for (int k = 2; k < 8; k += 2) {
    s0 = ri_dpbusd(s0, w[k], ri_bcast4(q + 4 * k));
    s1 = ri_dpbusd(s1, w[k + 1], ri_bcast4(q + 4 * k + 4));
  }
  return ri_add(s0, s1);
}
template <class B>
using PackedQ32Of = PackedQ32;
#else
struct PackedQ32 {
  __m256i w[8];
  __m256 dw, bw;
};
// The signed types (Q8_0, IQ4_NL) through the sign trick in the lanes: vpmaddubsw takes |w| (aw, unsigned, up to
// 128) and the token's bytes with w's sign (vpsignb), Σ |w| · sign(q, w) = Σ w · q; each i16 pair sum is at most
// 2 · 128 · 127 < 2^15, but two would not be, so every vpmaddubsw widens on its own (vpmaddwd by ones).
struct PackedQ32S {
  __m256i w[8], aw[8];
  __m256 dw, bw;
};
template <class B>
using PackedQ32Of = std::conditional_t<Q32<B>::kSigned, PackedQ32S, PackedQ32>;
#endif

template <class B>
struct Q32Packer {
  using Block = B;
  using Packed = PackedQ32Of<B>;
  static constexpr int kTokens = kPackTokens;  // 256 ran pp512 of a Llama-3-8B Q8_0 0.95x
#if PRIMA_VNNI
  using Acc = RowsF;
  static constexpr int kRows = kLaneRows;
#else
  using Acc = __m256;
  static constexpr int kRows = 8;
#endif
  // 20 KB: L1 (18 KB with the signed types' second set of vectors); the tokens' chunk: kBlocks / 8 block_q8_32x8
  // groups
  static constexpr int kBlocks = (sizeof(Packed) > sizeof(PackedQ32) ? 256 : 512) / kRows;

  // Blocks i0 .. i0 + nb_chunk - 1 of the kRows rows wr -> pk.
  static void pack(const B* const* wr, int64_t i0, int nb_chunk, Packed* pk) {
    constexpr int H = kRows / 8;  // 8-row halves
    for (int ib = 0; ib < nb_chunk; ++ib) {
      const int64_t i = i0 + ib;
      alignas(32) uint16_t d[kRows], m[kRows];
#pragma GCC unroll 1
      for (int h = 0; h < H; ++h) {
        __m256i u[8], t[8];
#pragma GCC unroll 8
        for (int r = 0; r < 8; ++r) {
          u[r] = Q32<B>::values(wr[8 * h + r][i]);
          d[8 * h + r] = wr[8 * h + r][i].d;
          if constexpr (Q32<B>::kMin) m[8 * h + r] = wr[8 * h + r][i].m;
        }
        transpose8_epi32(u, t);
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) reinterpret_cast<__m256i*>(pk[ib].w)[k * H + h] = t[k];
        if constexpr (requires { pk[ib].aw; }) {
#pragma GCC unroll 8
          for (int k = 0; k < 8; ++k) pk[ib].aw[k] = _mm256_abs_epi8(t[k]);  // |-128| = 0x80: 128 unsigned
        }
      }
#if PRIMA_VNNI
      pk[ib].dw = rf_f16(d);
      if constexpr (Q32<B>::kMin) {
        pk[ib].bw = rf_f16(m);
      } else {
        pk[ib].bw = rf_mul(pk[ib].dw, rf_set1(Q32<B>::kOffset));  // exact
      }
#else
      pk[ib].dw = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(d)));
      if constexpr (Q32<B>::kMin) {
        pk[ib].bw = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(m)));
      } else {
        pk[ib].bw = _mm256_mul_ps(pk[ib].dw, _mm256_set1_ps(Q32<B>::kOffset));  // exact
      }
#endif
    }
  }

  // T tokens (activation rows act[t], blocks i0..) over nb_chunk packed blocks: acc[t] lane r += row r's terms,
  // in block order.
  template <int T>
  static void run(const Packed* pk, int nb_chunk, const uint8_t* const* act, int64_t i0, Acc* acc) {
    const block_q8_32x8* a[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const block_q8_32x8*>(act[t]);
    for (int ib = 0; ib < nb_chunk; ++ib) {
      const Packed& p = pk[ib];
      const int64_t gi = (i0 + ib) / 8;
      const int b = static_cast<int>((i0 + ib) % 8);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const block_q8_32x8& g = a[t][gi];
        const int8_t* q = g.qs + 32 * b;
#if PRIMA_VNNI
        const RowsI isum = dot_lanes_bcast(p.w, q);
        const RowsF dd = rf_mul(p.dw, rf_set1(g.d[b]));
        const RowsF v = rf_add(rf_mul(dd, rf_cvt(isum)), rf_mul(p.bw, rf_set1(g.s[b])));
        acc[t] = rf_add(acc[t], v);
#else
        const __m256i ones = _mm256_set1_epi16(1);
        __m256i h[4];
        if constexpr (Q32<B>::kSigned) {
          auto dot = [&](int k) {
            return _mm256_madd_epi16(_mm256_maddubs_epi16(p.aw[k], _mm256_sign_epi8(bcast4(q + 4 * k), p.w[k])), ones);
          };
#pragma GCC unroll 4
          for (int k = 0; k < 4; ++k) h[k] = _mm256_add_epi32(dot(2 * k), dot(2 * k + 1));
          h[0] = _mm256_add_epi32(h[0], _mm256_set1_epi32(128 * g.sum[b]));  // canonical u = w + 128
        } else {
#pragma GCC unroll 4
          for (int k = 0; k < 4; ++k)
            h[k] = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(p.w[2 * k], bcast4(q + 8 * k)),
                                                      _mm256_maddubs_epi16(p.w[2 * k + 1], bcast4(q + 8 * k + 4))),
                                     ones);
        }
        const __m256i isum = _mm256_add_epi32(_mm256_add_epi32(h[0], h[1]), _mm256_add_epi32(h[2], h[3]));
        const __m256 dd = _mm256_mul_ps(p.dw, _mm256_set1_ps(g.d[b]));
        const __m256 v = _mm256_add_ps(_mm256_mul_ps(dd, _mm256_cvtepi32_ps(isum)),
                                       _mm256_mul_ps(p.bw, _mm256_set1_ps(g.s[b])));
        acc[t] = _mm256_add_ps(acc[t], v);
#endif
      }
    }
  }
};
