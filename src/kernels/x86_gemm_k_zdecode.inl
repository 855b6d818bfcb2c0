// AVX-512 decode of the K-quants: one whole super-block of a row per step, in zmm (x86_gemm_k.inl's per-row
// kernel takes it in two halves of ymm). Included by x86_gemm_k.inl with AVX-512.
//
// The 256 values go into 4 vectors u[j] of 64 unsigned bytes, each holding two of the super-block's 8 groups of
// 32 values: group kPair[j][0] in the low 256 bits, kPair[j][1] in the high ones (the pairing that lets each type
// unpack from whole 64-byte loads). The activation vectors az[j] hold the same groups of block_q8_K's values;
// they are built once per block for the 8 rows of a decode step. Then, as in the ymm kernel,
//   p[j] = vpdpbusd(u[j], az[j])                                 (16 sums of 4 products, < 2^15)
//   isum = vpdpwssd(vpdpwssd(0, packs(p0, p1), gs[0]), packs(p2, p3), gs[1])
// with the scale vectors gs laid out for that pairing, and the two 256-bit halves of isum added: the same exact
// integer sums as the ymm kernel, so the same floats. Half the instructions per super-block: the 8-row decode
// step of the low-bit types (Q2_K, Q3_K) was bound by them, not by memory. Decode matmuls streamed from memory,
// 2 threads, zmm / ymm kernel in alternating passes of one process (median of 38-58 paired ratios): Q2_K
// 1.04-1.14x, Q3_K 1.13-1.27x, Q4_K 1.01x, Q6_K 1.16x, a Llama-3-8B Q4_K_M layer mix 1.05x; Q5_K 0.96x (it
// stays on the ymm kernel).

static inline __m512i mask8z(int v) { return _mm512_set1_epi8(static_cast<char>(v)); }
static inline __m512i load512(const void* p) { return _mm512_loadu_si512(p); }
static inline __m512i bcast256(const void* p) { return _mm512_broadcast_i64x4(load256(p)); }
// Bits `shift`.. of every byte, masked to `mask` (16-bit shifts: what leaks across bytes is masked off).
static inline __m512i bitsz(__m512i x, int shift, int mask) {
  if (shift == 0) return _mm512_and_si512(x, mask8z(mask));
  return _mm512_and_si512(_mm512_srli_epi16(x, shift), mask8z(mask));
}
// Bit `from` of every byte moved to bit `to`, everything else cleared.
static inline __m512i move_bitz(__m512i x, int from, int to) {
  if (from > to) x = _mm512_srli_epi16(x, from - to);
  if (from < to) x = _mm512_slli_epi16(x, to - from);
  return _mm512_and_si512(x, mask8z(1 << to));
}
// Per 256-bit half, i16 shift counts a (low) and b (high).
static inline __m512i counts16(int a, int b) {
  return _mm512_inserti64x4(_mm512_set1_epi16(static_cast<short>(a)), _mm256_set1_epi16(static_cast<short>(b)), 1);
}

// vpshufb control that makes every i16 of a zmm (128-bit lane L, slot e < 8) from byte src(L, e) of its lane:
// as the low byte, high byte zero (unsigned), or as the high byte, low byte zero (signed: shift right by 8 after).
struct Ctl64 {
  alignas(64) int8_t b[64];
};
template <class F>
constexpr Ctl64 i16_ctl(F src, bool high) {
  Ctl64 c{};
  for (int L = 0; L < 4; ++L) {
    for (int e = 0; e < 8; ++e) {
      const auto v = static_cast<int8_t>(src(L, e));
      c.b[16 * L + 2 * e] = high ? int8_t{-128} : v;
      c.b[16 * L + 2 * e + 1] = high ? v : int8_t{-128};
    }
  }
  return c;
}

// Per type: kPair, kSigned (scales are signed bytes), unpack(b, u), scale_bytes(b) (a zmm whose every 128-bit
// lane holds the scale of 16-value sub-block s at byte scale_byte(s)), mins(b, sb) (the ymm of 16 i16 that
// multiplies block_q8_K's bsums: madd(bsums, mn), as RowScales::mn).
template <class B>
struct ZK {
  static constexpr bool kHas = false;  // Q5_K: the ymm kernel (the zmm one measured 0.96-0.99x from memory)
};

// Q3_K / Q6_K: the 16 signed scale bytes of sb (bytes 0..15) as i16, times 2^(8 - shift): (sc << 8) >> shift.
static inline __m256i signed_mins(__m512i sb, int shift) {
  constexpr char z = static_cast<char>(0x80);
  const __m256i hi = _mm256_shuffle_epi8(_mm512_castsi512_si256(sb),
                                         _mm256_setr_epi8(z, 0, z, 1, z, 2, z, 3, z, 4, z, 5, z, 6, z, 7,  //
                                                          z, 8, z, 9, z, 10, z, 11, z, 12, z, 13, z, 14, z, 15));
  return _mm256_srai_epi16(hi, shift);
}

template <>
struct ZK<block_q2_K> {
  static constexpr bool kHas = true;
  static constexpr int kPair[4][2] = {{0, 4}, {1, 5}, {2, 6}, {3, 7}};
  static constexpr bool kSigned = false;
  static constexpr int scale_byte(int s) { return s; }
  static inline void unpack(const block_q2_K& b, __m512i u[4]) {
    const __m512i q = load512(b.qs);  // [half 0 | half 1]: value 128h + 32j + k = bits 2j.. of qs[32h + k]
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) u[j] = bitsz(q, 2 * j, 3);
  }
  static inline __m512i scale_bytes(const block_q2_K& b) {
    return _mm512_and_si512(_mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales))),
                            mask8z(15));
  }
  static inline __m256i mins(const block_q2_K& b, __m512i) {
    const __m256i m = _mm256_and_si256(_mm256_srli_epi16(_mm256_broadcastsi128_si256(_mm_loadu_si128(
                                                             reinterpret_cast<const __m128i*>(b.scales))),
                                                         4),
                                       mask8(15));
    constexpr char z = static_cast<char>(0x80);
    return _mm256_shuffle_epi8(m, _mm256_setr_epi8(0, z, 1, z, 2, z, 3, z, 4, z, 5, z, 6, z, 7, z,  //
                                                   8, z, 9, z, 10, z, 11, z, 12, z, 13, z, 14, z, 15, z));
  }
};

template <>
struct ZK<block_q3_K> {
  static constexpr bool kHas = true;
  static constexpr int kPair[4][2] = {{0, 4}, {1, 5}, {2, 6}, {3, 7}};
  static constexpr bool kSigned = true;
  static constexpr int scale_byte(int s) { return s; }
  static inline void unpack(const block_q3_K& b, __m512i u[4]) {
    const __m512i q = load512(b.qs);
    // high bit of value 32g + k: bit g of hmask[k]; in the high half (g = 4 + j) shifted down to bit j
    const __m512i hb = bcast256(b.hmask);
    const __m512i hz = _mm512_mask_srli_epi16(hb, 0xffff0000u, hb, 4);
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) u[j] = _mm512_or_si512(bitsz(q, 2 * j, 3), move_bitz(hz, j, 2));
  }
  static inline __m512i scale_bytes(const block_q3_K& b) { return _mm512_broadcast_i32x4(k3_scales_s8(b)); }
  static inline __m256i mins(const block_q3_K&, __m512i sb) { return signed_mins(sb, 6); }  // 4 * sc
};

// Q4_K: qs[0..63] holds groups 0 (low nibbles of qs[0..31]), 1 (their high nibbles), 2, 3 (qs[32..63]).
template <>
struct ZK<block_q4_K> {
  static constexpr bool kHas = true;
  static constexpr int kPair[4][2] = {{0, 2}, {1, 3}, {4, 6}, {5, 7}};
  static constexpr bool kSigned = false;
  static constexpr int scale_byte(int s) { return s / 2 < 4 ? s / 2 : 4 + s / 2; }  // k4_v's sc[s / 2]
  static inline void unpack(const block_q4_K& b, __m512i u[4]) {
#pragma GCC unroll 2
    for (int c = 0; c < 2; ++c) {
      const __m512i q = load512(b.qs + 64 * c);
      u[2 * c] = _mm512_and_si512(q, mask8z(15));
      u[2 * c + 1] = bitsz(q, 4, 15);
    }
  }
  static inline __m512i scale_bytes(const block_q4_K& b) { return _mm512_broadcast_i64x4(k4_v(b.scales)); }
  static inline __m256i mins(const block_q4_K&, __m512i sb) { return k4_mn(_mm512_castsi512_si256(sb)); }
};

template <>
struct ZK<block_q6_K> {
  static constexpr bool kHas = true;
  // ql[64h..64h+63]: low nibbles groups 4h, 4h + 1, high nibbles 4h + 2, 4h + 3; their 2 high bits in qh[32h..]
  // at bits 0-1, 2-3, 4-5, 6-7.
  static constexpr int kPair[4][2] = {{0, 1}, {2, 3}, {4, 5}, {6, 7}};
  static constexpr bool kSigned = true;
  static constexpr int scale_byte(int s) { return s; }
  static inline void unpack(const block_q6_K& b, __m512i u[4]) {
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m512i l = load512(b.ql + 64 * h), hq = bcast256(b.qh + 32 * h);
      const __m512i hlo = _mm512_and_si512(_mm512_sllv_epi16(hq, counts16(4, 2)), mask8z(0x30));
      const __m512i hhi = _mm512_and_si512(_mm512_srlv_epi16(hq, counts16(0, 2)), mask8z(0x30));
      u[2 * h] = _mm512_or_si512(_mm512_and_si512(l, mask8z(15)), hlo);
      u[2 * h + 1] = _mm512_or_si512(bitsz(l, 4, 15), hhi);
    }
  }
  static inline __m512i scale_bytes(const block_q6_K& b) {
    return _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b.scales)));
  }
  static inline __m256i mins(const block_q6_K&, __m512i sb) { return signed_mins(sb, 3); }  // 32 * sc
};

// The control for gs[k] (the pair of vectors u[2k], u[2k + 1]): lane L of packs(p[2k], p[2k + 1]) holds 4 sums
// of p[2k] (values 16 (L & 1).. of group kPair[2k][L / 2]), then 4 of p[2k + 1].
template <class B>
constexpr Ctl64 gs_ctl(int k) {
  return i16_ctl(
      [k](int L, int e) {
        const int g = ZK<B>::kPair[2 * k + (e >= 4)][L / 2];
        return ZK<B>::scale_byte(2 * g + (L & 1));
      },
      ZK<B>::kSigned);
}
template <class B>
struct ZCtl {
  static constexpr Ctl64 gs[2] = {gs_ctl<B>(0), gs_ctl<B>(1)};
};

// The activation vectors of block q (its 256 values) for B's pairing.
template <class B>
static inline void zk_act(const int8_t* q, __m512i az[4]) {
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j)
    az[j] = _mm512_inserti64x4(_mm512_castsi256_si512(load256(q + 32 * ZK<B>::kPair[j][0])),
                               load256(q + 32 * ZK<B>::kPair[j][1]), 1);
}

// One row's super-block against the activation block (az, bsums): sum_pairs(isum, msum) as KKernel::row_sums.
template <class B>
static inline __m256i zk_row_sums(const B& wb, const __m512i az[4], const int16_t* bsums) {
  __m512i u[4];
  ZK<B>::unpack(wb, u);
  const __m512i sb = ZK<B>::scale_bytes(wb);
  __m512i gs[2];
#pragma GCC unroll 2
  for (int k = 0; k < 2; ++k) {
    gs[k] = _mm512_shuffle_epi8(sb, _mm512_load_si512(ZCtl<B>::gs[k].b));
    if constexpr (ZK<B>::kSigned) gs[k] = _mm512_srai_epi16(gs[k], 8);
  }
  __m512i p[4];
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) p[j] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), u[j], az[j]);
  const __m512i isum = _mm512_dpwssd_epi32(_mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_packs_epi32(p[0], p[1]), gs[0]),
                                           _mm512_packs_epi32(p[2], p[3]), gs[1]);
  const __m256i isum8 = _mm256_add_epi32(_mm512_castsi512_si256(isum), _mm512_extracti64x4_epi64(isum, 1));
  const __m256i msum = _mm256_madd_epi16(load256(bsums), ZK<B>::mins(wb, sb));
  return sum_pairs(isum8, msum);
}
