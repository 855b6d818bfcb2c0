// x86 dot products of the 32-value block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) with block_q8_32x8
// activations. Each weight block is unpacked once into 32 bytes u (x = d * u + bias, as in gemm_scalar.cpp)
// and multiplied with C activation rows: Σ = d * da * Σ u*q + bias * s.
//  - several tokens (prefill): 8 blocks at a time; their 8 integer sums are reduced into one vector (lane b =
//    block b) so that the scales d * da and the bias terms of 8 blocks take one convert and two FMAs, instead
//    of a convert, a broadcast, a multiply and two FMAs per block and token;
//  - one token (decode): block by block, the unpacking dominates there.
// Without VNNI, Q8_0 and IQ4_NL keep signed values (kSigned) for the sign trick; with VNNI every type is
// unsigned (u = q + 128 for those two) and vpdpbusd takes it directly.

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

template <>
struct Q32<block_q4_0> {
  static constexpr bool kSigned = false, kMin = false;
  static constexpr float kOffset = -8;  // bias = kOffset * d (kMin: bias = m)
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
#if PRIMA_VNNI
  static constexpr bool kSigned = false;
  static constexpr float kOffset = -128;  // u = q + 128
  static __m256i values(const block_q8_0& b) {
    return _mm256_xor_si256(load256(b.qs), _mm256_set1_epi8(static_cast<char>(0x80)));
  }
#else
  static constexpr bool kSigned = true;
  static constexpr float kOffset = 0;
  static __m256i values(const block_q8_0& b) { return load256(b.qs); }
#endif
};
template <>
struct Q32<block_iq4_nl> {
  static constexpr bool kMin = false;
#if PRIMA_VNNI
  static constexpr bool kSigned = false;
  static constexpr float kOffset = -128;  // u = codebook value + 128
  static __m256i values(const block_iq4_nl& b) {
    const __m256i table = _mm256_setr_epi8(1, 24, 45, 63, 79, 93, 106, 118, -127, -115, -103, -90, -75, -59, -39, -15,
                                           1, 24, 45, 63, 79, 93, 106, 118, -127, -115, -103, -90, -75, -59, -39, -15);
    return _mm256_shuffle_epi8(table, nibbles32(b.qs));
  }
#else
  static constexpr bool kSigned = true;
  static constexpr float kOffset = 0;
  static __m256i values(const block_iq4_nl& b) {
    const __m256i table = _mm256_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
                                           -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
    return _mm256_shuffle_epi8(table, nibbles32(b.qs));
  }
#endif
};

template <class B>
static inline __m256i q32_dot(__m256i u, const int8_t* q) {
  return Q32<B>::kSigned ? dot_s8s8(u, load256(q)) : dot_u8s8(u, load256(q));
}

template <class B>
static inline float q32_bias(const B& b, float d) {
  if constexpr (Q32<B>::kMin) {
    return f16_to_f32(b.m);
  } else {
    return Q32<B>::kOffset * d;
  }
}

// [b0 b1 ... b7]: the totals of 8 vectors of 8 i32.
static inline __m256i reduce8(const __m256i (&v)[8]) {
  const __m256i h01 = _mm256_hadd_epi32(v[0], v[1]), h23 = _mm256_hadd_epi32(v[2], v[3]);
  const __m256i h45 = _mm256_hadd_epi32(v[4], v[5]), h67 = _mm256_hadd_epi32(v[6], v[7]);
  const __m256i lo = _mm256_hadd_epi32(h01, h23), hi = _mm256_hadd_epi32(h45, h67);  // [b0..b3 | b0..b3] halves
  return _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20), _mm256_permute2x128_si256(lo, hi, 0x31));
}

#define PRIMA_F16X8(b, f)                                                                                        \
  _mm256_cvtph_ps(_mm_setr_epi16(static_cast<short>(b[0].f), static_cast<short>(b[1].f), static_cast<short>(b[2].f), \
                                 static_cast<short>(b[3].f), static_cast<short>(b[4].f), static_cast<short>(b[5].f), \
                                 static_cast<short>(b[6].f), static_cast<short>(b[7].f)))

// 8 weight blocks against one group of 8 activation blocks of each of Cc rows.
template <class B, int Cc>
static inline __attribute__((always_inline)) void q32_group(const B* wb, const block_q8_32x8* const (&ag)[Cc],
                                                            int64_t gi, __m256 (&acc)[Cc], __m256 (&bacc)[Cc]) {
  __m256i u[8];
#pragma GCC unroll 8
  for (int b = 0; b < 8; ++b) u[b] = Q32<B>::values(wb[b]);
  const __m256 dw = PRIMA_F16X8(wb, d);
  __m256 bw = _mm256_setzero_ps();
  if constexpr (Q32<B>::kMin) {
    bw = PRIMA_F16X8(wb, m);
  } else {
    bw = _mm256_mul_ps(dw, _mm256_set1_ps(Q32<B>::kOffset));
  }
#pragma GCC unroll 8
  for (int c = 0; c < Cc; ++c) {
    const block_q8_32x8& g = ag[c][gi];
    __m256i dp[8];
#pragma GCC unroll 8
    for (int b = 0; b < 8; ++b) dp[b] = q32_dot<B>(u[b], g.qs + 32 * b);
    acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(reduce8(dp)), _mm256_mul_ps(dw, _mm256_loadu_ps(g.d)), acc[c]);
    if constexpr (Q32<B>::kMin || Q32<B>::kOffset != 0) bacc[c] = _mm256_fmadd_ps(bw, _mm256_loadu_ps(g.s), bacc[c]);
  }
}

// One weight block against block b of one activation group of each of Cc rows.
template <class B, int Cc>
static inline __attribute__((always_inline)) void q32_block(const B& wb, const block_q8_32x8* const (&ag)[Cc],
                                                            int64_t gi, int b, __m256 (&acc)[Cc], float (&bacc)[Cc]) {
  const __m256i u = Q32<B>::values(wb);
  const float d = f16_to_f32(wb.d), bias = q32_bias(wb, d);
#pragma GCC unroll 8
  for (int c = 0; c < Cc; ++c) {
    const block_q8_32x8& g = ag[c][gi];
    acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q32_dot<B>(u, g.qs + 32 * b)), _mm256_set1_ps(d * g.d[b]), acc[c]);
    bacc[c] += bias * g.s[b];
  }
}

template <class B>
struct Q32Kernel {
  static constexpr int R = 1;
  static constexpr int C = 4;

  template <int Rr, int Cc>
  static void run(int64_t n, const uint8_t* w, size_t, const uint8_t* a, size_t as, float* y, size_t ldy) {
    static_assert(Rr == 1);
    const auto* wb = reinterpret_cast<const B*>(w);
    const block_q8_32x8* ag[Cc];
#pragma GCC unroll 8
    for (int c = 0; c < Cc; ++c) ag[c] = reinterpret_cast<const block_q8_32x8*>(a + c * as);
    const int64_t nb = n / 32;
    int64_t i = 0;
    __m256 acc0[Cc], acc1[Cc], vbacc[Cc];
    float bacc0[Cc], bacc1[Cc];
#pragma GCC unroll 8
    for (int c = 0; c < Cc; ++c) {
      acc0[c] = acc1[c] = vbacc[c] = _mm256_setzero_ps();
      bacc0[c] = bacc1[c] = 0;
    }
    if constexpr (Cc > 1) {
      for (; i + 8 <= nb; i += 8) q32_group(wb + i, ag, i / 8, acc0, vbacc);
    } else {
      // Block by block, two sets of accumulators (even / odd blocks) so that FMA latency does not bound decode.
      for (; i + 8 <= nb; i += 8) {
#pragma GCC unroll 8
        for (int b = 0; b < 8; b += 2) {
          q32_block(wb[i + b], ag, i / 8, b, acc0, bacc0);
          q32_block(wb[i + b + 1], ag, i / 8, b + 1, acc1, bacc1);
        }
      }
    }
    for (; i < nb; ++i) q32_block(wb[i], ag, i / 8, static_cast<int>(i % 8), acc0, bacc0);
#pragma GCC unroll 8
    for (int c = 0; c < Cc; ++c)
      y[c * ldy] = hsum(_mm256_add_ps(_mm256_add_ps(acc0[c], acc1[c]), vbacc[c])) + bacc0[c] + bacc1[c];
  }
};

#undef PRIMA_F16X8
