// Prefill of the K-quants: weight rows in vector lanes, activations broadcast (VNNI, and AVX2 without it). Included by
// x86_gemm_k.inl (after the unpackers k_scales / k_half, before KKernel, which calls it for tiles of many tokens).
//
// The per-row kernel of x86_gemm_k.inl multiplies one weight row with 8 tokens; every (row, token, super-block)
// then needs its 8-lane integer sums reduced, scaled and turned into floats on its own. Here 8 weight rows share
// each instruction instead: a super-block of the 8 rows is unpacked once and transposed into
//   w[p]  (p < 64): the 4 values 4p..4p+3 of each row r in 32-bit lane r,
//   sc[j] (j < 16): the scale of sub-block j of each row, as i32 lanes,
//   mn[m] (m < 8):  the mins of sub-blocks 2m and 2m+1 of each row, as an i16 pair per lane,
//   d, dm:          the rows' super-block scales as 8 floats,
// and every token of the tile runs over the packed rows: per sub-block 4 vpdpbusd of w[p] with the token's
// 4 bytes 4p..4p+3 broadcast to all lanes give the 8 rows' sub-block sums in one vector, vpmulld by sc[j]
// applies the scales (with AVX-512, a vpdpwssd per two sub-blocks where their sums fit in 16 bits: KScale),
// and the float steps of gemm_impl.h's canonical order run on the 8 rows at once:
//   v = ((d · da) · float(isum)) - ((dm · da) · float(msum));  acc = acc + v     (lane r = row r)
// The exact integer sums are formed in another order than the per-row kernel's, which does not change them,
// so every output keeps its bits. 8 tokens share each loaded w[p] and sc[j] (4 measured ~3 % slower, 2 ~25 %).
//
// With AVX-512 (VNNI) the rows go 16 to a zmm: two 8-row packings, one per 256-bit half. Zen 4 runs a zmm
// vpdpbusd as two halves, so the products per cycle do not change, but each broadcast load, scale multiply,
// mins product and float step now serves 16 rows: prefill/Q4_K and Q6_K 1.15-1.20x over 8 rows in a ymm (2
// threads, best of 3 in turns), pp512 of a Llama-3-8B Q4_K_M 1.21x. The 8-row loop needed 59 cycles per
// (super-block, token) where its 64 vpdpbusd take 32; removing its 16 vpmulld gained nothing, removing the 8
// mins products 13-22 %: it was bound by the instructions around the products, not by them. With 16 rows the
// vpmulld began to count (KScale): pairing sub-blocks into vpdpwssd made prefill/Q4_K 1.13x, Q2_K 1.12x, and one
// vpmulld per 32 values Q5_K 1.08-1.16x (1 thread, best of 6 in turns); pp512 Llama-3-8B Q4_K_M 1.05x.
//
// Without VNNI (AVX2) the same layout goes through vpmaddubsw (u < 64: no saturation), quads added in 16 bits
// (four where u < 32, two for Q6_K: kSum4In16) and vpmaddwd by sc[j] held as (sc, sc) i16 pairs: the scale
// multiply comes with the widening, so there is no vpmulld.
//
// The packed rows are built 8 super-blocks (AVX2; 4 with 16 rows) at a time on the stack (23 KB: L1);
// tile_packed (x86_common.inl) runs the loops.

// Super-block i of 8 rows wr[0..7], transposed: vector k of w, sc, mn to w[k * stride] (and so on), the rows'
// f16 d and dm to d[0..7], dm[0..7]. stride 2 writes one 256-bit half of a 512-bit vector (16-row packing).
template <class B>
static inline void pack_rows8(const B* const* wr, int64_t i, __m256i* w, __m256i* sc, __m256i* mn, uint16_t* d,
                              uint16_t* dm, int stride) {
  __m256i t[8];
#pragma GCC unroll 1
  for (int h = 0; h < 2; ++h) {
    __m256i u[8][4];
#pragma GCC unroll 8
    for (int r = 0; r < 8; ++r) k_half(wr[r][i], h, u[r]);
#pragma GCC unroll 1
    for (int g = 0; g < 4; ++g) {
      __m256i in[8];
#pragma GCC unroll 8
      for (int r = 0; r < 8; ++r) in[r] = u[r][g];
      transpose8_epi32(in, t);  // group g of half h: values 128h + 32g + 4k, k < 8
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) w[(32 * h + 8 * g + k) * stride] = t[k];
    }
  }
  // Scales and mins: row r's 16 i16 of each -> lane r. sc widened to i32 (two 8x8 transposes); the mins' i16
  // pairs (2m, 2m + 1) are the 8 dwords of the row's vector (one transpose).
  __m256i sc_lo[8], sc_hi[8], m[8];
#pragma GCC unroll 1
  for (int r = 0; r < 8; r += 2) {
    WK ka, kb;
    k_scales_pair(wr[r][i], wr[r + 1][i], ka, kb);
    sc_lo[r] = _mm256_cvtepi16_epi32(_mm256_castsi256_si128(ka.sc));
    sc_hi[r] = _mm256_cvtepi16_epi32(_mm256_extracti128_si256(ka.sc, 1));
    sc_lo[r + 1] = _mm256_cvtepi16_epi32(_mm256_castsi256_si128(kb.sc));
    sc_hi[r + 1] = _mm256_cvtepi16_epi32(_mm256_extracti128_si256(kb.sc, 1));
    m[r] = ka.mn;
    m[r + 1] = kb.mn;
    const uint32_t da = k_dpair(wr[r][i]), db = k_dpair(wr[r + 1][i]);
    d[r] = static_cast<uint16_t>(da);
    dm[r] = static_cast<uint16_t>(da >> 16);
    d[r + 1] = static_cast<uint16_t>(db);
    dm[r + 1] = static_cast<uint16_t>(db >> 16);
  }
  transpose8_epi32(sc_lo, t);
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) sc[k * stride] = t[k];
  transpose8_epi32(sc_hi, t);
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) sc[(8 + k) * stride] = t[k];
  transpose8_epi32(m, t);
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) mn[k * stride] = t[k];
}

#if PRIMA_VNNI
// With VNNI: kLaneRows rows per vector (x86_rows.inl), 16 in a zmm with AVX-512 (two 8-row packings, one per
// 256-bit half), 8 in a ymm with AVX-VNNI. Zen 4 executes a zmm vpdpbusd as two halves, so the products per cycle
// stay the same, but every instruction around them (the broadcast loads, the scale multiplies, the mins, the
// float steps) serves 16 rows instead of 8.
struct PackedK {
  RowsI w[64];
  RowsI sc[16];
  RowsI mn[8];
  RowsF d, dm;
};

// Super-block i of the kLaneRows rows wr, transposed as pack_rows8 does (one 8-row packing per 256-bit part of
// the vector): w[0..63], sc[0..15] (i32 lanes), mn[0..7], and the rows' f16 d and dm as floats. The AMX kernel
// packs through it too.
template <class B>
static inline void pack_lane_rows(const B* const* wr, int64_t i, RowsI* w, RowsI* sc, RowsI* mn, RowsF& d, RowsF& dm) {
  constexpr int H = kLaneRows / 8;
  alignas(32) uint16_t d16[kLaneRows], dm16[kLaneRows];
#pragma GCC unroll 1
  for (int half = 0; half < H; ++half)
    pack_rows8(wr + 8 * half, i, reinterpret_cast<__m256i*>(w) + half, reinterpret_cast<__m256i*>(sc) + half,
               reinterpret_cast<__m256i*>(mn) + half, d16 + 8 * half, dm16 + 8 * half, H);
  d = rf_f16(d16);
  dm = rf_f16(dm16);
}

// How the packed kernel applies the sub-block scales. A zmm vpmulld costs Zen 4 about two vpdpbusd (without the
// 16 per super-block and token the Q4_K loop ran 1.21x faster, 1 thread), so where a sub-block's sum fits in 16
// bits (|sum| < 16 * u_max * 128: Q2_K, Q3_K, Q4_K) two sub-blocks' sums become an i16 pair per lane and one
// vpdpwssd applies both scales; Q5_K's two sub-blocks of 32 values share one scale (one vpmulld per 32 values);
// Q6_K (u < 64) keeps one vpmulld per 16.
enum class KScale { kPairs, kMul32, kMul16 };

template <class B>
struct KPacker {
  using Block = B;
  using Packed = PackedK;
  using Acc = RowsF;
  static constexpr int kRows = kLaneRows;
  static constexpr int kBlocks = 64 / kRows;  // 23 KB: L1
  // A pack of 16 rows costs about as much as running 13 tokens over them: 256 tokens per pack instead of 128 ran
  // prefill/Q4_K 1.03-1.05x (2 threads, best of 5 in turns) and pp512 of a Llama-3-8B Q4_K_M 1.036x (median of
  // 4 rounds of bench/ab); Q6_K stayed within ±2.5 %. (The 32-value types lost: Q32Packer keeps 128.)
  static constexpr int kTokens = 256;
  // Q4_K / Q5_K: one min per 32 values (mn[m] holds it twice, for the bsums of its two sub-blocks of 16).
  static constexpr bool kMins32 = std::is_same_v<B, block_q4_K> || std::is_same_v<B, block_q5_K>;
  static constexpr KScale kScale = std::is_same_v<B, block_q5_K>   ? KScale::kMul32
                                   : std::is_same_v<B, block_q6_K> ? KScale::kMul16
                                                                   : KScale::kPairs;

  // Super-blocks i0 .. i0 + nb_chunk - 1 of the kRows rows wr -> pk.
  static void pack(const B* const* wr, int64_t i0, int nb_chunk, PackedK* pk) {
    for (int ib = 0; ib < nb_chunk; ++ib) {
      PackedK& p = pk[ib];
      pack_lane_rows(wr, i0 + ib, p.w, p.sc, p.mn, p.d, p.dm);
      if constexpr (kMins32) {  // mn[k] = (mn of 32-value group 2k, of 2k + 1) as an i16 pair per lane, k < 4
        for (int k = 0; k < 4; ++k) p.mn[k] = ri_pairs16(p.mn[2 * k], p.mn[2 * k + 1]);
      }
      if constexpr (kScale == KScale::kPairs) {  // sc[g] = (sc[2g], sc[2g + 1]) as an i16 pair per lane
        for (int g = 0; g < 8; ++g) p.sc[g] = ri_pairs16(p.sc[2 * g], ri_shl16(p.sc[2 * g + 1]));
      }
    }
  }

  // T tokens (activation rows a[t], super-blocks i0..) over nb_chunk packed super-blocks: acc[t] lane r += row r's
  // terms, in block order.
  template <int T>
  static void run(const PackedK* pk, int nb_chunk, const uint8_t* const* act, int64_t i0, RowsF* acc) {
    const block_q8_K* a[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const block_q8_K*>(act[t]);
    for (int ib = 0; ib < nb_chunk; ++ib) {
      const PackedK& p = pk[ib];
      const int64_t i = i0 + ib;
      RowsI isum[T], msum[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) isum[t] = msum[t] = ri_zero();
      if constexpr (kScale == KScale::kPairs) {
        // The sums of sub-blocks 2g and 2g + 1 as an i16 pair per lane, times their scales in one vpdpwssd.
#pragma GCC unroll 2
        for (int g = 0; g < 8; ++g) {
          RowsI w[8];
#pragma GCC unroll 8
          for (int k = 0; k < 8; ++k) w[k] = p.w[8 * g + k];
          const RowsI sc = p.sc[g];
#pragma GCC unroll 8
          for (int t = 0; t < T; ++t) {
            const int8_t* q = a[t][i].qs + 32 * g;
            RowsI s0 = ri_dpbusd_bcast(ri_zero(), w[0], q);
            RowsI s1 = ri_dpbusd_bcast(ri_zero(), w[4], q + 16);
#pragma GCC unroll 3
            for (int k = 1; k < 4; ++k) {
              s0 = ri_dpbusd_bcast(s0, w[k], q + 4 * k);
              s1 = ri_dpbusd_bcast(s1, w[4 + k], q + 16 + 4 * k);
            }
            isum[t] = ri_dpwssd(isum[t], ri_pairs16(s0, ri_shl16(s1)), sc);
          }
        }
      } else {
        // One vpmulld per sub-block of 16 values, or per 32 where the two share their scale (Q5_K).
        constexpr int kSub = kScale == KScale::kMul32 ? 2 : 1;
#pragma GCC unroll 2
        for (int j = 0; j < 16; j += kSub) {
          RowsI w[4 * kSub];
#pragma GCC unroll 8
          for (int k = 0; k < 4 * kSub; ++k) w[k] = p.w[4 * j + k];
          const RowsI sc = p.sc[j];
#pragma GCC unroll 8
          for (int t = 0; t < T; ++t) {
            const int8_t* q = a[t][i].qs + 16 * j;
            RowsI s = ri_dpbusd_bcast(ri_zero(), w[0], q);
#pragma GCC unroll 8
            for (int k = 1; k < 4 * kSub; ++k) s = ri_dpbusd_bcast(s, w[k], q + 4 * k);
            isum[t] = ri_add(isum[t], ri_mullo(s, sc));
          }
        }
      }
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const int16_t* bs = a[t][i].bsums;
        if constexpr (kMins32) {
          // The token's sums of 32 values (bsums[2g] + bsums[2g + 1], |.| <= 32 * 128) in pairs (2k, 2k + 1),
          // against mn[k] = (mn[2k], mn[2k + 1]): 4 vpdpwssd instead of 8.
          const __m256i b = load256(bs);
          const __m256i s32 = _mm256_add_epi16(b, _mm256_srli_epi32(b, 16));  // i16 lane 2g: bsum32[g]
          constexpr char z = static_cast<char>(0x80);
          alignas(32) int32_t pairs[8];
          _mm256_store_si256(reinterpret_cast<__m256i*>(pairs),
                             _mm256_shuffle_epi8(s32, _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, z, z, z, z, z, z, z, z,
                                                                       0, 1, 4, 5, 8, 9, 12, 13, z, z, z, z, z, z, z, z)));
#pragma GCC unroll 4
          for (int k = 0; k < 4; ++k) msum[t] = ri_dpwssd(msum[t], p.mn[k], ri_set1(pairs[k < 2 ? k : k + 2]));
        } else {
#pragma GCC unroll 8
          for (int m = 0; m < 8; ++m) {
            int32_t pair;
            std::memcpy(&pair, bs + 2 * m, 4);
            msum[t] = ri_dpwssd(msum[t], p.mn[m], ri_set1(pair));
          }
        }
        const RowsF da = rf_set1(a[t][i].d);
        const RowsF v = rf_sub(rf_mul(rf_mul(p.d, da), rf_cvt(isum[t])), rf_mul(rf_mul(p.dm, da), rf_cvt(msum[t])));
        acc[t] = rf_add(acc[t], v);
      }
    }
  }
};
#else
// AVX2: 8 rows in the 8 lanes of a ymm.
struct PackedK {
  __m256i w[64];
  __m256i sc[16];
  __m256i mn[8];
  __m256 d, dm;
};

template <class B>
struct KPacker {
  using Block = B;
  using Packed = PackedK;
  using Acc = __m256;
  static constexpr int kRows = 8;
  static constexpr int kBlocks = 8;
  static constexpr int kTokens = kPackTokens;
  // Where u < 32 (all but Q6_K), a sub-block's 4 vpmaddubsw results add in 16 bits (|sum| <= 4 * 2 * 31 * 128 <
  // 2^15) and one vpmaddwd widens and scales them: 9 instructions per sub-block and token instead of 10
  // (prefill/Q2_K, Q4_K, Q5_K 1.01-1.11x, Q3_K within the noise; 2 threads, two rounds in turns). Q6_K adds two
  // (4 * 63 * 128 < 2^15).
  static constexpr bool kSum4In16 = !std::is_same_v<B, block_q6_K>;

  // Super-blocks i0 .. i0 + nb_chunk - 1 of the 8 rows wr -> pk.
  static void pack(const B* const* wr, int64_t i0, int nb_chunk, PackedK* pk) {
    for (int ib = 0; ib < nb_chunk; ++ib) {
      PackedK& p = pk[ib];
      alignas(16) uint16_t d[8], dm[8];
      pack_rows8(wr, i0 + ib, p.w, p.sc, p.mn, d, dm, 1);
      for (int j = 0; j < 16; ++j)  // (sc, sc) i16 pairs for vpmaddwd
        p.sc[j] = _mm256_or_si256(_mm256_and_si256(p.sc[j], _mm256_set1_epi32(0xffff)), _mm256_slli_epi32(p.sc[j], 16));
      p.d = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(d)));
      p.dm = _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(dm)));
    }
  }

  // T tokens (activation rows a[t], super-blocks i0..) over nb_chunk packed super-blocks: acc[t] lane r += row r's
  // terms, in block order.
  template <int T>
  static void run(const PackedK* pk, int nb_chunk, const uint8_t* const* act, int64_t i0, __m256* acc) {
    const block_q8_K* a[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) a[t] = reinterpret_cast<const block_q8_K*>(act[t]);
    for (int ib = 0; ib < nb_chunk; ++ib) {
      const PackedK& p = pk[ib];
      const int64_t i = i0 + ib;
      __m256i isum[T], msum[T];
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) isum[t] = msum[t] = _mm256_setzero_si256();
#pragma GCC unroll 2
      for (int j = 0; j < 16; ++j) {
        const __m256i w0 = p.w[4 * j], w1 = p.w[4 * j + 1], w2 = p.w[4 * j + 2], w3 = p.w[4 * j + 3], sc = p.sc[j];
#pragma GCC unroll 8
        for (int t = 0; t < T; ++t) {
          const int8_t* q = a[t][i].qs + 16 * j;
          const __m256i s01 =
              _mm256_add_epi16(_mm256_maddubs_epi16(w0, bcast4(q)), _mm256_maddubs_epi16(w1, bcast4(q + 4)));
          const __m256i s23 =
              _mm256_add_epi16(_mm256_maddubs_epi16(w2, bcast4(q + 8)), _mm256_maddubs_epi16(w3, bcast4(q + 12)));
          if constexpr (kSum4In16) {
            isum[t] = _mm256_add_epi32(isum[t], _mm256_madd_epi16(_mm256_add_epi16(s01, s23), sc));
          } else {
            isum[t] = _mm256_add_epi32(isum[t], _mm256_add_epi32(_mm256_madd_epi16(s01, sc), _mm256_madd_epi16(s23, sc)));
          }
        }
      }
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const int16_t* bs = a[t][i].bsums;
#pragma GCC unroll 8
        for (int m = 0; m < 8; ++m) {
          int32_t pair;
          std::memcpy(&pair, bs + 2 * m, 4);
          msum[t] = madd_acc(msum[t], p.mn[m], _mm256_set1_epi32(pair));
        }
        const __m256 da = _mm256_set1_ps(a[t][i].d);
        const __m256 v = _mm256_sub_ps(_mm256_mul_ps(_mm256_mul_ps(p.d, da), _mm256_cvtepi32_ps(isum[t])),
                                       _mm256_mul_ps(_mm256_mul_ps(p.dm, da), _mm256_cvtepi32_ps(msum[t])));
        acc[t] = _mm256_add_ps(acc[t], v);
      }
    }
  }
};
#endif
