// NEON dot products of the 32-value block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) with block_q8_32x8
// activations, in the canonical order of gemm_impl.h: per block, v = ((d · da) · float(isum)) + bias · s with
// the exact integer isum = Σ u*q, added to the output in block order. Shared by both NEON tables
// (neon_common.inl: PRIMA_NEON_SDOT picks SDOT or smull / sadalp for the 8-bit sums).
//
// Register tile: the vector lanes are 4 weight rows. Block i of the 4 rows is unpacked into registers (2 × 16
// signed bytes each) once and multiplied with block i of up to C activation rows (decode: 1), so each unpacked
// block serves C tokens and each activation load serves 4 rows. The 4 integer sums of one activation row are
// reduced into one vector (lane r = row r), and the float steps — d·da, · isum, bias · s, +, the accumulation —
// run on the 4 outputs at once, each lane exactly the scalar sequence.
//
// Weights are held as signed bytes w = u - shift: shift 0 for the 4/5-bit types (u < 32), 128 for Q8_0 and
// IQ4_NL (w = the stored byte / the codebook value), whose isum = Σ w*q + 128 * Σ q (Σ q is stored with the
// activations): the same integer.

// Q4 layout: low nibbles are values 0-15, high nibbles 16-31.
static inline void nibbles(const uint8_t* qs, uint8x16_t* lo, uint8x16_t* hi) {
  const uint8x16_t v = vld1q_u8(qs);
  *lo = vandq_u8(v, vdupq_n_u8(15));
  *hi = vshrq_n_u8(v, 4);
}

// Bit j of the 32-bit qh is bit 4 of value j: byte j/8 spread over 8 lanes, bit j%8 tested, 16 inserted.
static inline void fifth_bit(const uint8_t* qh, uint8x16_t* lo, uint8x16_t* hi) {
  uint32_t bits;
  std::memcpy(&bits, qh, 4);
  const uint8x16_t bytes = vreinterpretq_u8_u32(vdupq_n_u32(bits));
  const uint8x16_t idx_lo = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
  const uint8x16_t idx_hi = {2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
  const uint8x16_t bit = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  const uint8x16_t b4 = vdupq_n_u8(16);
  *lo = vbslq_u8(b4, vtstq_u8(vqtbl1q_u8(bytes, idx_lo), bit), *lo);
  *hi = vbslq_u8(b4, vtstq_u8(vqtbl1q_u8(bytes, idx_hi), bit), *hi);
}

template <class B>
struct Q32;

// kOffset: bias = kOffset · d (exact), unless kMin (bias = m). kSmall: |w| <= 64 (dot32_small applies).
template <>
struct Q32<block_q4_0> {
  static constexpr bool kMin = false, kSmall = true;
  static constexpr int kShift = 0;
  static constexpr float kOffset = -8;
  static void values(const block_q4_0& b, int8x16_t* w0, int8x16_t* w1) {
    uint8x16_t lo, hi;
    nibbles(b.qs, &lo, &hi);
    *w0 = vreinterpretq_s8_u8(lo);
    *w1 = vreinterpretq_s8_u8(hi);
  }
};
template <>
struct Q32<block_q4_1> {
  static constexpr bool kMin = true, kSmall = true;
  static constexpr int kShift = 0;
  static constexpr float kOffset = 0;
  static void values(const block_q4_1& b, int8x16_t* w0, int8x16_t* w1) {
    uint8x16_t lo, hi;
    nibbles(b.qs, &lo, &hi);
    *w0 = vreinterpretq_s8_u8(lo);
    *w1 = vreinterpretq_s8_u8(hi);
  }
};
template <>
struct Q32<block_q5_0> {
  static constexpr bool kMin = false, kSmall = true;
  static constexpr int kShift = 0;
  static constexpr float kOffset = -16;
  static void values(const block_q5_0& b, int8x16_t* w0, int8x16_t* w1) {
    uint8x16_t lo, hi;
    nibbles(b.qs, &lo, &hi);
    fifth_bit(b.qh, &lo, &hi);
    *w0 = vreinterpretq_s8_u8(lo);
    *w1 = vreinterpretq_s8_u8(hi);
  }
};
template <>
struct Q32<block_q5_1> {
  static constexpr bool kMin = true, kSmall = true;
  static constexpr int kShift = 0;
  static constexpr float kOffset = 0;
  static void values(const block_q5_1& b, int8x16_t* w0, int8x16_t* w1) {
    uint8x16_t lo, hi;
    nibbles(b.qs, &lo, &hi);
    fifth_bit(b.qh, &lo, &hi);
    *w0 = vreinterpretq_s8_u8(lo);
    *w1 = vreinterpretq_s8_u8(hi);
  }
};
template <>
struct Q32<block_q8_0> {  // canonical u = q + 128
  static constexpr bool kMin = false, kSmall = false;
  static constexpr int kShift = 128;
  static constexpr float kOffset = -128;
  static void values(const block_q8_0& b, int8x16_t* w0, int8x16_t* w1) {
    *w0 = vld1q_s8(b.qs);
    *w1 = vld1q_s8(b.qs + 16);
  }
};
template <>
struct Q32<block_iq4_nl> {  // canonical u = codebook value + 128
  static constexpr bool kMin = false, kSmall = false;
  static constexpr int kShift = 128;
  static constexpr float kOffset = -128;
  static void values(const block_iq4_nl& b, int8x16_t* w0, int8x16_t* w1) {
    const int8x16_t book = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};  // kvalues_iq4nl
    uint8x16_t lo, hi;
    nibbles(b.qs, &lo, &hi);
    *w0 = vqtbl1q_s8(book, lo);
    *w1 = vqtbl1q_s8(book, hi);
  }
};

template <class B>
struct Q32Kernel {
  static constexpr int C = 4;  // activation rows per pass (prefill)

  // out[c] lane r = Σ_i v_i of rows w[r] (r < 4) and activation rows ag[c] (c < Cc). (Not inlined into tile: one
  // copy per shape.)
  template <int Cc>
  static __attribute__((noinline)) void run(int64_t nb, const B* const (&w)[4], const block_q8_32x8* const (&ag)[C], float32x4_t (&out)[C]) {
    using T = Q32<B>;
    float32x4_t acc[Cc];
#pragma GCC unroll 4
    for (int c = 0; c < Cc; ++c) acc[c] = vdupq_n_f32(0.0f);
    for (int64_t i0 = 0; i0 < nb; i0 += 8) {  // a group of 8 activation blocks
      const block_q8_32x8* g[Cc];
#pragma GCC unroll 4
      for (int c = 0; c < Cc; ++c) g[c] = ag[c] + i0 / 8;
      const int bn = nb - i0 < 8 ? static_cast<int>(nb - i0) : 8;
      for (int b = 0; b < bn; ++b) {
        const int64_t i = i0 + b;
        int8x16_t u[4][2];
#pragma GCC unroll 4
        for (int r = 0; r < 4; ++r) T::values(w[r][i], &u[r][0], &u[r][1]);
        const float32x4_t dw = f16x4(&w[0][i].d, &w[1][i].d, &w[2][i].d, &w[3][i].d);
        float32x4_t bw;
        if constexpr (T::kMin) {
          bw = f16x4(&w[0][i].m, &w[1][i].m, &w[2][i].m, &w[3][i].m);
        } else {
          bw = vmulq_n_f32(dw, T::kOffset);  // exact
        }
#pragma GCC unroll 4
        for (int c = 0; c < Cc; ++c) {
          const int8x16_t q0 = vld1q_s8(g[c]->qs + 32 * b), q1 = vld1q_s8(g[c]->qs + 32 * b + 16);
          int32x4_t s[4];
#pragma GCC unroll 4
          for (int r = 0; r < 4; ++r)
            s[r] = T::kSmall ? dot32_small(u[r][0], q0, u[r][1], q1) : dot32_full(u[r][0], q0, u[r][1], q1);
          int32x4_t isum = sum4(s[0], s[1], s[2], s[3]);
          if constexpr (T::kShift != 0) isum = vaddq_s32(isum, vdupq_n_s32(T::kShift * g[c]->sum[b]));
          const float32x4_t dd = vmulq_n_f32(dw, g[c]->d[b]);
          const float32x4_t v = vaddq_f32(vmulq_f32(dd, vcvtq_f32_s32(isum)), vmulq_n_f32(bw, g[c]->s[b]));
          acc[c] = vaddq_f32(acc[c], v);
        }
      }
    }
#pragma GCC unroll 4
    for (int c = 0; c < Cc; ++c) out[c] = acc[c];
  }

  // 4 weight rows at a time, taken from 4 quarters of the tile (rows k*q + j, k < 4, j < q), so that in decode
  // each lane reads one long sequential stream rather than 4 short ones restarting every group (as the x86
  // tables do). Past the tile's end a lane repeats its last row; its results are dropped.
  static void tile(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int nc, float* y,
                   size_t ldy) {
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* ab = static_cast<const uint8_t*>(a);
    const int64_t nb = n / 32;
    const int q = (nr + 3) / 4;
    for (int j = 0; j < q; ++j) {
      const B* wr[4];
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) wr[k] = reinterpret_cast<const B*>(wb + min_int(k * q + j, nr - 1) * ws);
      for (int c0 = 0; c0 < nc; c0 += C) {
        const int cc = min_int(C, nc - c0);
        const block_q8_32x8* ag[C];
#pragma GCC unroll 4
        for (int c = 0; c < C; ++c) ag[c] = reinterpret_cast<const block_q8_32x8*>(ab + min_int(c0 + c, nc - 1) * as);
        float32x4_t out[C];
        switch (cc) {
          case 1: run<1>(nb, wr, ag, out); break;
          case 2: run<2>(nb, wr, ag, out); break;
          case 3: run<3>(nb, wr, ag, out); break;
          default: run<4>(nb, wr, ag, out); break;
        }
        for (int c = 0; c < cc; ++c) {
          float lanes[4];
          vst1q_f32(lanes, out[c]);
          for (int k = 0; k < 4; ++k)
            if (k * q + j < nr) y[(c0 + c) * ldy + k * q + j] = lanes[k];
        }
      }
    }
  }
};
