// x86 dot products of the 32-value block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) with block_q8_32x8
// activations, in the canonical order of gemm_impl.h: per block, v = ((d * da) * float(isum)) + bias * s with
// the exact integer isum = Σ u*q, added to the output in block order.
//
// The vector lanes are 8 weight rows: block i of 8 rows is unpacked into 8 × 32 bytes u and multiplied with
// block i of each of C activation rows; the 8 integer sums of one activation row are reduced into one vector
// (lane r = row r), so that the float steps — d*da, · isum, bias · s, +, and the accumulation — run on 8
// outputs at once, each lane exactly the scalar sequence.
// Tiles of 8 tokens or more go to the packed kernel (x86_gemm_q32_packed.inl), which unpacks each block once per
// 128 tokens instead of once per 8.
// Without VNNI, Q8_0 and IQ4_NL keep signed values (kSigned) for the sign trick and add 128 * Σq (stored with
// the activations) to get the canonical Σ (value + 128) * q; with VNNI every type is unsigned (u = q + 128 for
// those two) and vpdpbusd takes it directly.

// 32 nibbles as bytes 0..15 = low nibbles, 16..31 = high nibbles.
static inline __m256i nibbles32(const uint8_t* qs) {
  const __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  return _mm256_and_si256(_mm256_srlv_epi32(v, _mm256_set_epi32(4, 4, 4, 4, 0, 0, 0, 0)), _mm256_set1_epi8(15));
}

// Byte j = 0x10 when bit j of the 32-bit little-endian word at qh is set.
static inline __m256i fifth_bits(const uint8_t* qh) {
  uint32_t bits;
  std::memcpy(&bits, qh, 4);
  __m256i x = _mm256_set1_epi32(static_cast<int>(bits));
  x = _mm256_shuffle_epi8(x, _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0));
  const __m256i bit = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
  x = _mm256_cmpeq_epi8(_mm256_and_si256(x, bit), bit);
  return _mm256_and_si256(x, _mm256_set1_epi8(0x10));
}

template <class B>
struct Q32;

// kOffset: bias = kOffset * d (exact), unless kMin (bias = m).
template <>
struct Q32<block_q4_0> {
  static constexpr bool kSigned = false, kMin = false;
  static constexpr float kOffset = -8;
  static __m256i values(const block_q4_0& b) { return nibbles32(b.qs); }
};
template <>
struct Q32<block_q4_1> {
  static constexpr bool kSigned = false, kMin = true;
  static constexpr float kOffset = 0;
  static __m256i values(const block_q4_1& b) { return nibbles32(b.qs); }
};
template <>
struct Q32<block_q5_0> {
  static constexpr bool kSigned = false, kMin = false;
  static constexpr float kOffset = -16;
  static __m256i values(const block_q5_0& b) { return _mm256_or_si256(nibbles32(b.qs), fifth_bits(b.qh)); }
};
template <>
struct Q32<block_q5_1> {
  static constexpr bool kSigned = false, kMin = true;
  static constexpr float kOffset = 0;
  static __m256i values(const block_q5_1& b) { return _mm256_or_si256(nibbles32(b.qs), fifth_bits(b.qh)); }
};
template <>
struct Q32<block_q8_0> {
  static constexpr bool kMin = false;
  static constexpr float kOffset = -128;  // canonical u = q + 128
#if PRIMA_VNNI
  static constexpr bool kSigned = false;
  static __m256i values(const block_q8_0& b) {
    return _mm256_xor_si256(load256(b.qs), _mm256_set1_epi8(static_cast<char>(0x80)));
  }
#else
  static constexpr bool kSigned = true;
  static __m256i values(const block_q8_0& b) { return load256(b.qs); }
#endif
};
template <>
struct Q32<block_iq4_nl> {
  static constexpr bool kMin = false;
  static constexpr float kOffset = -128;  // canonical u = codebook value + 128
#if PRIMA_VNNI
  static constexpr bool kSigned = false;
  static __m256i values(const block_iq4_nl& b) {
    const __m256i table = _mm256_setr_epi8(1, 24, 45, 63, 79, 93, 106, 118, -127, -115, -103, -90, -75, -59, -39, -15,
                                           1, 24, 45, 63, 79, 93, 106, 118, -127, -115, -103, -90, -75, -59, -39, -15);
    return _mm256_shuffle_epi8(table, nibbles32(b.qs));
  }
#else
  static constexpr bool kSigned = true;
  static __m256i values(const block_iq4_nl& b) {
    const __m256i table = _mm256_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
                                           -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
    return _mm256_shuffle_epi8(table, nibbles32(b.qs));
  }
#endif
};

#include "kernels/x86_gemm_q32_packed.inl"

#if PRIMA_VNNI
// Σ_p w[p] · (the 4 bytes at q + 4p, broadcast), lane-wise: the 8 rows' integer sums with a token's block when
// w holds the rows' values transposed (w[p] lane r = row r's values 4p..4p+3). Two chains (even / odd p). The
// per-row kernel's short prefill (Cc > 1); the packed kernel has its twin on RowsI, dot_lanes_bcast.
static inline __m256i dot_rows_bcast(const __m256i* w, const int8_t* q) {
  __m256i s0 = dpbusd(_mm256_setzero_si256(), w[0], bcast4(q));
  __m256i s1 = dpbusd(_mm256_setzero_si256(), w[1], bcast4(q + 4));
#pragma GCC unroll 3
  for (int k = 2; k < 8; k += 2) {
    s0 = dpbusd(s0, w[k], bcast4(q + 4 * k));
    s1 = dpbusd(s1, w[k + 1], bcast4(q + 4 * k + 4));
  }
  return _mm256_add_epi32(s0, s1);
}
#endif

template <class B>
static inline __m256i q32_dot(__m256i u, const int8_t* q) {
  return Q32<B>::kSigned ? dot_s8s8(u, load256(q)) : dot_u8s8(u, load256(q));
}

// [t0 t1 ... t7]: the totals of 8 vectors of 8 i32.
static inline __m256i reduce8(const __m256i (&v)[8]) {
  const __m256i h01 = sum_pairs(v[0], v[1]), h23 = sum_pairs(v[2], v[3]);
  const __m256i h45 = sum_pairs(v[4], v[5]), h67 = sum_pairs(v[6], v[7]);
  const __m256i lo = sum_quads(h01, h23), hi = sum_quads(h45, h67);  // [t0..t3 | t0..t3] halves
  return _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31));
}

// The f16 field f of block i of the 8 rows, as 8 floats.
#define PRIMA_F16_ROWS(w, i, f)                                                                               \
  _mm256_cvtph_ps(_mm_setr_epi16(static_cast<short>(w[0][i].f), static_cast<short>(w[1][i].f),                \
                                 static_cast<short>(w[2][i].f), static_cast<short>(w[3][i].f),                \
                                 static_cast<short>(w[4][i].f), static_cast<short>(w[5][i].f),                \
                                 static_cast<short>(w[6][i].f), static_cast<short>(w[7][i].f)))

template <class B>
struct Q32Kernel {
  // Activation rows per pass: more of them spread the unpacking of the 8 weight blocks. Decode and prefill of
  // fewer than kPackMinTokens tokens come here (more go to the packed kernel): one pass.
  static constexpr int C = 8;
  static_assert(kPackMinTokens <= C, "one pass covers every token count the packed kernel leaves");
  static constexpr int16_t kTileTokens = Q32Packer<B>::kTokens;  // the packed kernel blocks the row (tile_packed)

  // out[c][r] = Σ_i v_i of rows w[r] (r < 8) and activation rows ag[c] (c < Cc).
  template <int Cc>
  static void run(int64_t n, const B* const (&w)[8], const block_q8_32x8* const* ag, float (*out)[8]) {
    __m256 acc[Cc];
#pragma GCC unroll 8
    for (int c = 0; c < Cc; ++c) acc[c] = _mm256_setzero_ps();
    const int64_t nb = n / 32;
    for (int64_t i = 0; i < nb; ++i) {
      const int64_t gi = i / 8;
      const int b = static_cast<int>(i % 8);
      if constexpr (Cc == 1) {  // decode: x86_common.inl (one line per row every kEvery blocks)
        constexpr int64_t kEvery = sizeof(B) >= 64 ? 1 : 64 / sizeof(B);
        if (i % kEvery == 0)
#pragma GCC unroll 8
          for (int r = 0; r < 8; ++r)
            _mm_prefetch(reinterpret_cast<const char*>(&w[r][i]) + kDecodePrefetchBytes, _MM_HINT_T1);
      }
      __m256i u[8];
#pragma GCC unroll 8
      for (int r = 0; r < 8; ++r) u[r] = Q32<B>::values(w[r][i]);
      const __m256 dw = PRIMA_F16_ROWS(w, i, d);
      __m256 bw;
      if constexpr (Q32<B>::kMin) {
        bw = PRIMA_F16_ROWS(w, i, m);
      } else {
        bw = _mm256_mul_ps(dw, _mm256_set1_ps(Q32<B>::kOffset));  // exact
      }
#if PRIMA_VNNI
      // Several tokens: transpose the 8 rows' values once (wt[p] lane r = row r's values 4p..4p+3) and let
      // each token's 4-byte groups, broadcast, meet them in vpdpbusd: the 8 rows' sums come out in their lanes,
      // without the per-token reduction of 8 vectors.
      __m256i wt[8];
      if constexpr (Cc > 1) transpose8_epi32(u, wt);
#endif
#pragma GCC unroll 8
      for (int c = 0; c < Cc; ++c) {
        const block_q8_32x8& g = ag[c][gi];
        __m256i isum;
#if PRIMA_VNNI
        if constexpr (Cc > 1) {
          isum = dot_rows_bcast(wt, g.qs + 32 * b);
        } else
#endif
        {
          __m256i dp[8];
#pragma GCC unroll 8
          for (int r = 0; r < 8; ++r) dp[r] = q32_dot<B>(u[r], g.qs + 32 * b);
          isum = reduce8(dp);
        }
        if constexpr (Q32<B>::kSigned) isum = _mm256_add_epi32(isum, _mm256_set1_epi32(128 * g.sum[b]));
        const __m256 dd = _mm256_mul_ps(dw, _mm256_set1_ps(g.d[b]));
        const __m256 v = _mm256_add_ps(_mm256_mul_ps(dd, _mm256_cvtepi32_ps(isum)), _mm256_mul_ps(bw, _mm256_set1_ps(g.s[b])));
        acc[c] = _mm256_add_ps(acc[c], v);
      }
    }
#pragma GCC unroll 8
    for (int c = 0; c < Cc; ++c) _mm256_storeu_ps(out[c], acc[c]);
  }

  // 8 weight rows at a time, taken from 8 eighths of the tile (rows k*q + j, k < 8, j < q), so that in decode
  // each lane reads one long sequential stream (the hardware prefetchers follow 8 of those; 8 adjacent rows
  // would be 8 short streams restarting every group). Past the tile's end a lane repeats its last row.
  static void tile(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int nc, float* y,
                   size_t ldy) {
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* ab = static_cast<const uint8_t*>(a);
    if (nc >= kPackMinTokens) {  // enough tokens to pay for packing 8 rows (x86_gemm_q32_packed.inl)
      tile_packed<Q32Packer<B>>(n / 32, wb, ws, nr, ab, as, nc, y, ldy);
      return;
    }
    const int q = (nr + 7) / 8;
    float out[C][8];
    for (int j = 0; j < q; ++j) {
      const B* wr[8];
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) wr[k] = reinterpret_cast<const B*>(wb + min_int(k * q + j, nr - 1) * ws);
      for (int c0 = 0; c0 < nc; c0 += C) {
        const int cc = min_int(C, nc - c0);
        const block_q8_32x8* ag[C];
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) ag[c] = reinterpret_cast<const block_q8_32x8*>(ab + min_int(c0 + c, nc - 1) * as);
        switch (cc) {
          case 1: run<1>(n, wr, ag, out); break;
          case 2: if constexpr (C >= 2) run<2>(n, wr, ag, out); break;
          case 3: if constexpr (C >= 3) run<3>(n, wr, ag, out); break;
          case 4: if constexpr (C >= 4) run<4>(n, wr, ag, out); break;
          case 5: if constexpr (C >= 5) run<5>(n, wr, ag, out); break;
          case 6: if constexpr (C >= 6) run<6>(n, wr, ag, out); break;
          case 7: if constexpr (C >= 7) run<7>(n, wr, ag, out); break;
          default: if constexpr (C >= 8) run<8>(n, wr, ag, out); break;
        }
        for (int c = 0; c < cc; ++c)
          for (int k = 0; k < 8; ++k)
            if (k * q + j < nr) y[(c0 + c) * ldy + k * q + j] = out[c][k];
      }
    }
  }
};

#undef PRIMA_F16_ROWS
