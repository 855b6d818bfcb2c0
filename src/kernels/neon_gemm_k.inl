// NEON dot products of the K-quants (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K) with block_q8_K activations, shared by both
// NEON tables (neon_common.inl: PRIMA_NEON_SDOT picks SDOT or smull / sadalp for the 8-bit sums).
//
// Nothing is unpacked to memory: a super-block is taken 64 values (4 sub-blocks of 16) at a time into 4
// registers of unsigned bytes u (values 0..63, in activation order, x = d·sc[j]·u - dm·mn[j] as in
// gemm_scalar.cpp: the offsets of Q3_K / Q6_K are mins of 4·sc / 32·sc), multiplied with the activation's 64
// values, and the 4 sub-block sums of each chunk are scaled by their sc[j] at once (a vector of 4 i32 lanes that
// holds them — or, for Q4_K / Q5_K, whose 32-value sub-blocks share one scale, pairs of lanes of them).
// The 16 scales of a super-block stay in two registers (i16), and the min sum msum = Σ mn[j]·bsums[j] is one
// widening multiply-add per 8 pairs. Register tiles:
//   decode (one activation row): 4 weight rows at a time, each activation chunk loaded once for the 4 rows;
//   prefill: one weight row against 8 (or 4) activation rows, each unpacked chunk used for all of them; the last
//   1-3 tokens of a prefill go through the decode tile.
// The float steps follow the canonical order of gemm_impl.h for 4 outputs at once (4 rows of one token, or
// one row of 4 tokens): their isum and msum are reduced into [I0 I1 I2 I3] and [M0 M1 M2 M3], and
// v = (d·da)·I - (dm·da)·M of each output is added to its accumulator lane in super-block order.

// Bit From of every byte moved to bit To (the other bits are whatever the shift leaves: callers select with bsl).
template <int From, int To>
static inline uint8x16_t move_bits(uint8x16_t x) {
  if constexpr (From > To) {
    return vshrq_n_u8(x, From - To);
  } else if constexpr (From < To) {
    return vshlq_n_u8(x, To - From);
  } else {
    return x;
  }
}

// Bits 2S, 2S+1 of every byte.
template <int S>
static inline uint8x16_t two_bits(uint8x16_t x) {
  if constexpr (S == 3) {
    return vshrq_n_u8(x, 6);
  } else if constexpr (S == 0) {
    return vandq_u8(x, vdupq_n_u8(3));
  } else {
    return vandq_u8(vshrq_n_u8(x, 2 * S), vdupq_n_u8(3));
  }
}

static inline int8x16_t s8(uint8x16_t v) { return vreinterpretq_s8_u8(v); }
static inline int16x8_t widen_lo(uint8x16_t v) { return vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v))); }
static inline int16x8_t widen_hi(uint8x16_t v) { return vreinterpretq_s16_u16(vmovl_high_u8(v)); }

// Σ_j m[j] · bs[j] over 16 i16 pairs, as lanes.
static inline int32x4_t mul_sum16(const int16x8_t (&m)[2], const int16x8_t (&bs)[2]) {
  int32x4_t r = vmull_s16(vget_low_s16(m[0]), vget_low_s16(bs[0]));
  r = vmlal_high_s16(r, m[0], bs[0]);
  r = vmlal_s16(r, vget_low_s16(m[1]), vget_low_s16(bs[1]));
  return vmlal_high_s16(r, m[1], bs[1]);
}

// The 4 sub-block sums of a chunk (lane k: sub-block k), for types with a scale per 16 values.
static inline int32x4_t sums16(const int8x16_t (&u)[4], const int8x16_t (&q)[4]) {
  return sum4(dot16(u[0], q[0]), dot16(u[1], q[1]), dot16(u[2], q[2]), dot16(u[3], q[3]));
}

// Per type:
//   scales(b, sc, mn)   the 16 sub-block scales sc[j] as i16 (Q4_K / Q5_K: each 32-value scale twice) and
//                       whatever msum needs
//   msum(sc, mn, bs)    lanes of Σ_j mn[j] · bsums[j] (bs: the activation's 16 bsums)
//   unpack<G>(b, u)     values 64G .. 64G + 63 as 4 × 16 bytes
//   sums(u, q)          lanes whose products with sc[4G .. 4G + 3] sum to Σ_j sc[j] · Σ u·q over the chunk
//   dm(b)               the f16 of the min's scale (d itself for Q3_K and Q6_K: kSameD)
template <class B>
struct KQ;

// ---- Q2_K: values (qs[32h + l] >> 2s) & 3 at 128h + 32s + l; 4-bit scale | 4-bit min << 4 ----
template <>
struct KQ<block_q2_K> {
  static constexpr bool kSameD = false;
  static void scales(const block_q2_K& b, int16x8_t (&sc)[2], int16x8_t (&mn)[2]) {
    const uint8x16_t v = vld1q_u8(b.scales), s = vandq_u8(v, vdupq_n_u8(15)), m = vshrq_n_u8(v, 4);
    sc[0] = widen_lo(s);
    sc[1] = widen_hi(s);
    mn[0] = widen_lo(m);
    mn[1] = widen_hi(m);
  }
  static int32x4_t msum(const int16x8_t (&)[2], const int16x8_t (&mn)[2], const int16x8_t (&bs)[2]) {
    return mul_sum16(mn, bs);
  }
  template <int G>
  static void unpack(const block_q2_K& b, int8x16_t (&u)[4]) {
    constexpr int h = G / 2, s = 2 * (G % 2);
    const uint8x16_t q0 = vld1q_u8(b.qs + 32 * h), q1 = vld1q_u8(b.qs + 32 * h + 16);
    u[0] = s8(two_bits<s>(q0));
    u[1] = s8(two_bits<s>(q1));
    u[2] = s8(two_bits<s + 1>(q0));
    u[3] = s8(two_bits<s + 1>(q1));
  }
  static int32x4_t sums(const int8x16_t (&u)[4], const int8x16_t (&q)[4]) { return sums16(u, q); }
  static const uint16_t* dm(const block_q2_K& b) { return &b.dmin; }
};

// ---- Q3_K: Q2_K's low bits, bit 2 from hmask (value + 4); 6-bit scales - 32, packed in 12 bytes ----
template <>
struct KQ<block_q3_K> {
  static constexpr bool kSameD = true;
  static void scales(const block_q3_K& b, int16x8_t (&sc)[2], int16x8_t (&)[2]) {
    // l[j]: low nibble of s[j] (j < 8) or high nibble of s[j - 8], | bits 2(j/4).. of s[8 + j%4] << 4 (kquant_scales.h).
    // Lane j = 4k + m of [x, x >> 2, x >> 4, x >> 6] (x = s[8..11] as one word) is s[8 + m] >> 2k.
    const uint8x8_t s07 = vld1_u8(b.scales);
    const uint8x16_t lo = vcombine_u8(vand_u8(s07, vdup_n_u8(15)), vshr_n_u8(s07, 4));
    uint32_t x;
    std::memcpy(&x, b.scales + 8, 4);
    const int32x4_t shifts = {0, -2, -4, -6};
    const uint8x16_t hi = vandq_u8(vreinterpretq_u8_u32(vshlq_u32(vdupq_n_u32(x), shifts)), vdupq_n_u8(3));
    const int8x16_t l = vsubq_s8(s8(vorrq_u8(lo, vshlq_n_u8(hi, 4))), vdupq_n_s8(32));
    sc[0] = vmovl_s8(vget_low_s8(l));
    sc[1] = vmovl_high_s8(l);
  }
  static int32x4_t msum(const int16x8_t (&sc)[2], const int16x8_t (&)[2], const int16x8_t (&bs)[2]) {
    return vshlq_n_s32(mul_sum16(sc, bs), 2);  // mn = 4·sc
  }
  template <int G>
  static void unpack(const block_q3_K& b, int8x16_t (&u)[4]) {
    constexpr int h = G / 2, s = 2 * (G % 2);
    const uint8x16_t q0 = vld1q_u8(b.qs + 32 * h), q1 = vld1q_u8(b.qs + 32 * h + 16);
    const uint8x16_t hm0 = vld1q_u8(b.hmask), hm1 = vld1q_u8(b.hmask + 16), four = vdupq_n_u8(4);
    u[0] = s8(vbslq_u8(four, move_bits<4 * h + s, 2>(hm0), two_bits<s>(q0)));
    u[1] = s8(vbslq_u8(four, move_bits<4 * h + s, 2>(hm1), two_bits<s>(q1)));
    u[2] = s8(vbslq_u8(four, move_bits<4 * h + s + 1, 2>(hm0), two_bits<s + 1>(q0)));
    u[3] = s8(vbslq_u8(four, move_bits<4 * h + s + 1, 2>(hm1), two_bits<s + 1>(q1)));
  }
  static int32x4_t sums(const int8x16_t (&u)[4], const int8x16_t (&q)[4]) { return sums16(u, q); }
  static const uint16_t* dm(const block_q3_K& b) { return &b.d; }
};

// ---- Q4_K / Q5_K: value 32j + l is nibble j%2 of qs[32(j/2) + l] (+ bit j of qh[l] as bit 4); 8 six-bit scales
// and mins in 12 bytes ----
// In 32-bit words a0 = s[0..3], a1 = s[4..7], a2 = s[8..11] (kquant_scales.h):
//   sc[0..3] = a0 & 0x3f..,  mn[0..3] = a1 & 0x3f..,
//   sc[4..7] = (a2 & 0x0f..) | ((a0 >> 6) & 0x03..) << 4,  mn[4..7] = ((a2 >> 4) & 0x0f..) | ((a1 >> 6) & 0x03..) << 4.
static inline void k4_scales(const uint8_t* s, int16x8_t (&sc)[2], int16x8_t (&mn)[2]) {
  uint32_t a2;
  std::memcpy(&a2, s + 8, 4);
  const int32x2_t shifts = {0, -4};
  const uint32x2_t x = vreinterpret_u32_u8(vld1_u8(s));    // [a0, a1]
  const uint32x2_t y = vshl_u32(vdup_n_u32(a2), shifts);   // [a2, a2 >> 4]
  const uint32x2_t low6 = vand_u32(x, vdup_n_u32(0x3f3f3f3f));
  const uint32x2_t top = vshl_n_u32(vand_u32(vshr_n_u32(x, 6), vdup_n_u32(0x03030303)), 4);
  const uint32x2_t high6 = vorr_u32(vand_u32(y, vdup_n_u32(0x0f0f0f0f)), top);
  const uint8x8_t s8x8 = vreinterpret_u8_u32(vzip1_u32(low6, high6));  // sc[0..7]
  const uint8x8_t m8x8 = vreinterpret_u8_u32(vzip2_u32(low6, high6));  // mn[0..7]
  sc[0] = vreinterpretq_s16_u16(vmovl_u8(vzip1_u8(s8x8, s8x8)));       // each scale for its two sub-blocks of 16
  sc[1] = vreinterpretq_s16_u16(vmovl_u8(vzip2_u8(s8x8, s8x8)));
  mn[0] = vreinterpretq_s16_u16(vmovl_u8(m8x8));
}
// mn[k] (k < 8) against the sums of the bsums of its two sub-blocks (at most 2·16·127: no i16 overflow).
static inline int32x4_t k4_msum(const int16x8_t (&mn)[2], const int16x8_t (&bs)[2]) {
  const int16x8_t pairs = vpaddq_s16(bs[0], bs[1]);
  return vmlal_high_s16(vmull_s16(vget_low_s16(mn[0]), vget_low_s16(pairs)), mn[0], pairs);
}
// Lanes 0-1: the two halves of the 32-value sub-block 2G, lanes 2-3: of 2G + 1 (scales sc[4G..4G + 3]).
static inline int32x4_t k4_sums(const int8x16_t (&u)[4], const int8x16_t (&q)[4]) {
  return vpaddq_s32(dot32_small(u[0], q[0], u[1], q[1]), dot32_small(u[2], q[2], u[3], q[3]));
}

template <>
struct KQ<block_q4_K> {
  static constexpr bool kSameD = false;
  static void scales(const block_q4_K& b, int16x8_t (&sc)[2], int16x8_t (&mn)[2]) { k4_scales(b.scales, sc, mn); }
  static int32x4_t msum(const int16x8_t (&)[2], const int16x8_t (&mn)[2], const int16x8_t (&bs)[2]) {
    return k4_msum(mn, bs);
  }
  template <int G>
  static void unpack(const block_q4_K& b, int8x16_t (&u)[4]) {
    const uint8x16_t q0 = vld1q_u8(b.qs + 32 * G), q1 = vld1q_u8(b.qs + 32 * G + 16), f = vdupq_n_u8(15);
    u[0] = s8(vandq_u8(q0, f));
    u[1] = s8(vandq_u8(q1, f));
    u[2] = s8(vshrq_n_u8(q0, 4));
    u[3] = s8(vshrq_n_u8(q1, 4));
  }
  static int32x4_t sums(const int8x16_t (&u)[4], const int8x16_t (&q)[4]) { return k4_sums(u, q); }
  static const uint16_t* dm(const block_q4_K& b) { return &b.dmin; }
};

template <>
struct KQ<block_q5_K> {
  static constexpr bool kSameD = false;
  static void scales(const block_q5_K& b, int16x8_t (&sc)[2], int16x8_t (&mn)[2]) { k4_scales(b.scales, sc, mn); }
  static int32x4_t msum(const int16x8_t (&)[2], const int16x8_t (&mn)[2], const int16x8_t (&bs)[2]) {
    return k4_msum(mn, bs);
  }
  template <int G>
  static void unpack(const block_q5_K& b, int8x16_t (&u)[4]) {
    const uint8x16_t q0 = vld1q_u8(b.qs + 32 * G), q1 = vld1q_u8(b.qs + 32 * G + 16), f = vdupq_n_u8(15);
    const uint8x16_t h0 = vld1q_u8(b.qh), h1 = vld1q_u8(b.qh + 16), b4 = vdupq_n_u8(16);
    u[0] = s8(vbslq_u8(b4, move_bits<2 * G, 4>(h0), vandq_u8(q0, f)));
    u[1] = s8(vbslq_u8(b4, move_bits<2 * G, 4>(h1), vandq_u8(q1, f)));
    u[2] = s8(vbslq_u8(b4, move_bits<2 * G + 1, 4>(h0), vshrq_n_u8(q0, 4)));
    u[3] = s8(vbslq_u8(b4, move_bits<2 * G + 1, 4>(h1), vshrq_n_u8(q1, 4)));
  }
  static int32x4_t sums(const int8x16_t (&u)[4], const int8x16_t (&q)[4]) { return k4_sums(u, q); }
  static const uint16_t* dm(const block_q5_K& b) { return &b.dmin; }
};

// ---- Q6_K: value 128h + 32s + l (u = q + 32) has low nibble s/2 of ql[64h + 32(s%2) + l] and bits 4-5 from
// (qh[32h + l] >> 2s) & 3; int8 scales ----
template <>
struct KQ<block_q6_K> {
  static constexpr bool kSameD = true;
  static void scales(const block_q6_K& b, int16x8_t (&sc)[2], int16x8_t (&)[2]) {
    const int8x16_t v = vld1q_s8(b.scales);
    sc[0] = vmovl_s8(vget_low_s8(v));
    sc[1] = vmovl_high_s8(v);
  }
  static int32x4_t msum(const int16x8_t (&sc)[2], const int16x8_t (&)[2], const int16x8_t (&bs)[2]) {
    return vshlq_n_s32(mul_sum16(sc, bs), 5);  // mn = 32·sc
  }
  template <int G>
  static void unpack(const block_q6_K& b, int8x16_t (&u)[4]) {
    constexpr int h = G / 2, s = 2 * (G % 2);
    const uint8_t* ql = b.ql + 64 * h;
    const uint8x16_t l0 = vld1q_u8(ql), l1 = vld1q_u8(ql + 16), l2 = vld1q_u8(ql + 32), l3 = vld1q_u8(ql + 48);
    const uint8x16_t h0 = vld1q_u8(b.qh + 32 * h), h1 = vld1q_u8(b.qh + 32 * h + 16), m = vdupq_n_u8(0x30);
    auto nib = [](uint8x16_t v) { return G % 2 == 0 ? vandq_u8(v, vdupq_n_u8(15)) : vshrq_n_u8(v, 4); };
    u[0] = s8(vbslq_u8(m, move_bits<2 * s, 4>(h0), nib(l0)));
    u[1] = s8(vbslq_u8(m, move_bits<2 * s, 4>(h1), nib(l1)));
    u[2] = s8(vbslq_u8(m, move_bits<2 * s + 2, 4>(h0), nib(l2)));
    u[3] = s8(vbslq_u8(m, move_bits<2 * s + 2, 4>(h1), nib(l3)));
  }
  static int32x4_t sums(const int8x16_t (&u)[4], const int8x16_t (&q)[4]) { return sums16(u, q); }
  static const uint16_t* dm(const block_q6_K& b) { return &b.d; }
};

template <class B>
struct KKernel {
  using T = KQ<B>;

  // The scales of chunk G (sub-blocks 4G .. 4G + 3) as i32.
  template <int G>
  static inline int32x4_t scale32(const int16x8_t (&sc)[2]) {
    if constexpr (G % 2 == 0) {
      return vmovl_s16(vget_low_s16(sc[G / 2]));
    } else {
      return vmovl_high_s16(sc[G / 2]);
    }
  }

  // Chunk G of super-block i: isum[r * C + c] += the scaled sums of rows w[r] against activation rows a[c].
  template <int G, int R, int C>
  static inline __attribute__((always_inline)) void chunk(const B* const* w, const block_q8_K* const* a, int64_t i,
                                                          const int16x8_t (&sc)[R][2], int32x4_t (&isum)[R * C]) {
    if constexpr (C == 1) {  // R rows against one activation chunk, loaded once
      const int8_t* qa = a[0][i].qs + 64 * G;
      const int8x16_t q[4] = {vld1q_s8(qa), vld1q_s8(qa + 16), vld1q_s8(qa + 32), vld1q_s8(qa + 48)};
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        int8x16_t u[4];
        T::template unpack<G>(w[r][i], u);
        isum[r] = vmlaq_s32(isum[r], T::sums(u, q), scale32<G>(sc[r]));
      }
    } else {  // one row, unpacked once, against C activation chunks
      static_assert(R == 1);
      int8x16_t u[4];
      T::template unpack<G>(w[0][i], u);
      const int32x4_t s = scale32<G>(sc[0]);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const int8_t* qa = a[c][i].qs + 64 * G;
        const int8x16_t q[4] = {vld1q_s8(qa), vld1q_s8(qa + 16), vld1q_s8(qa + 32), vld1q_s8(qa + 48)};
        isum[c] = vmlaq_s32(isum[c], T::sums(u, q), s);
      }
    }
  }

  // Outputs o = r * C + c of rows w[r] (r < R) and activation rows a[c] (c < C): lane o % 4 of out[o / 4].
  // (Not inlined into tile: one copy per shape.)
  template <int R, int C>
  static __attribute__((noinline)) void run(int64_t nb, const B* const* w, const block_q8_K* const* a, float32x4_t* out) {
    static_assert((R == 4 && C == 1) || (R == 1 && (C == 4 || C == 8)));
    constexpr int O = R * C, H = O / 4;
    float32x4_t acc[H];
#pragma GCC unroll 2
    for (int h = 0; h < H; ++h) acc[h] = vdupq_n_f32(0.0f);
    for (int64_t i = 0; i < nb; ++i) {
      int16x8_t sc[R][2];
      int32x4_t isum[O], msum[O];
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        int16x8_t mn[2] = {vdupq_n_s16(0), vdupq_n_s16(0)};
        T::scales(w[r][i], sc[r], mn);
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c) {
          const int16x8_t bs[2] = {vld1q_s16(a[c][i].bsums), vld1q_s16(a[c][i].bsums + 8)};
          msum[r * C + c] = T::msum(sc[r], mn, bs);
          isum[r * C + c] = vdupq_n_s32(0);
        }
      }
      int32x4_t M[H];
#pragma GCC unroll 2
      for (int h = 0; h < H; ++h) M[h] = sum4(msum[4 * h], msum[4 * h + 1], msum[4 * h + 2], msum[4 * h + 3]);
      chunk<0, R, C>(w, a, i, sc, isum);
      chunk<1, R, C>(w, a, i, sc, isum);
      chunk<2, R, C>(w, a, i, sc, isum);
      chunk<3, R, C>(w, a, i, sc, isum);
#pragma GCC unroll 2
      for (int h = 0; h < H; ++h) {
        const int32x4_t I = sum4(isum[4 * h], isum[4 * h + 1], isum[4 * h + 2], isum[4 * h + 3]);
        float32x4_t dv, dmv, av;
        if constexpr (R == 1) {
          dv = vdupq_n_f32(half_to_f32(w[0][i].d));
          dmv = T::kSameD ? dv : vdupq_n_f32(half_to_f32(*T::dm(w[0][i])));
        } else {
          dv = f16x4(&w[0][i].d, &w[1][i].d, &w[2][i].d, &w[3][i].d);
          dmv = T::kSameD ? dv : f16x4(T::dm(w[0][i]), T::dm(w[1][i]), T::dm(w[2][i]), T::dm(w[3][i]));
        }
        if constexpr (C == 1) {
          av = vdupq_n_f32(a[0][i].d);
        } else {
          av = vld1q_dup_f32(&a[4 * h][i].d);
          av = vld1q_lane_f32(&a[4 * h + 1][i].d, av, 1);
          av = vld1q_lane_f32(&a[4 * h + 2][i].d, av, 2);
          av = vld1q_lane_f32(&a[4 * h + 3][i].d, av, 3);
        }
        const float32x4_t dd = vmulq_f32(dv, av), dmd = vmulq_f32(dmv, av);  // d·da, dm·da
        const float32x4_t v = vsubq_f32(vmulq_f32(dd, vcvtq_f32_s32(I)), vmulq_f32(dmd, vcvtq_f32_s32(M[h])));
        acc[h] = vaddq_f32(acc[h], v);
      }
    }
#pragma GCC unroll 2
    for (int h = 0; h < H; ++h) out[h] = acc[h];
  }

  static void tile(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int nc, float* y,
                   size_t ldy) {
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* ab = static_cast<const uint8_t*>(a);
    auto row = [&](int r) { return reinterpret_cast<const B*>(wb + r * ws); };
    auto act = [&](int c) { return reinterpret_cast<const block_q8_K*>(ab + c * as); };
    const int64_t nb = n / QK_K;
    float lanes[8];
    float32x4_t out[2];
    int c0 = 0;
    // Prefill: 8 (or 4) activation rows (kept in L1) against each weight row in turn.
    while (nc - c0 >= 4) {
      const int cc = nc - c0 >= 8 ? 8 : 4;
      const block_q8_K* ac[8];
      for (int c = 0; c < cc; ++c) ac[c] = act(c0 + c);
      for (int r = 0; r < nr; ++r) {
        const B* wr[1] = {row(r)};
        if (cc == 8) {
          run<1, 8>(nb, wr, ac, out);
          vst1q_f32(lanes + 4, out[1]);
        } else {
          run<1, 4>(nb, wr, ac, out);
        }
        vst1q_f32(lanes, out[0]);
        for (int c = 0; c < cc; ++c) y[(c0 + c) * ldy + r] = lanes[c];
      }
      c0 += cc;
    }
    // Decode (and the last 1-3 tokens of a prefill): 4 weight rows at a time, taken from 4 quarters of the tile
    // (rows k*q + j) so that each lane reads one long sequential stream; past the tile's end a lane repeats its
    // last row, and its results are dropped.
    const int q = (nr + 3) / 4;
    for (; c0 < nc; ++c0) {
      const block_q8_K* a0[1] = {act(c0)};
      for (int j = 0; j < q; ++j) {
        const B* wr[4];
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) wr[k] = row(min_int(k * q + j, nr - 1));
        run<4, 1>(nb, wr, a0, out);
        vst1q_f32(lanes, out[0]);
        for (int k = 0; k < 4; ++k)
          if (k * q + j < nr) y[c0 * ldy + k * q + j] = lanes[k];
      }
    }
  }
};
