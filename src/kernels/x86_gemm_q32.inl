// x86 dot products of the 32-value block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL) with block_q8_32
// activations. Each weight block is unpacked once into 32 bytes u (x = d * u + bias, as in gemm_scalar.cpp)
// and multiplied with C activation rows: Σ = d * da * Σ u*q + bias * s.
// Without VNNI, Q8_0 and IQ4_NL keep signed values (kSigned) for the sign trick; with VNNI every type is
// unsigned (u = q + 128 for those two) and vpdpbusd takes it directly.

struct W32 {
  __m256i u;
  float d, bias;
};

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
  static constexpr bool kSigned = false;
  static W32 load(const block_q4_0& b) {
    const float d = f16_to_f32(b.d);
    return {nibbles32(b.qs), d, -8 * d};
  }
};
template <>
struct Q32<block_q4_1> {
  static constexpr bool kSigned = false;
  static W32 load(const block_q4_1& b) { return {nibbles32(b.qs), f16_to_f32(b.d), f16_to_f32(b.m)}; }
};
template <>
struct Q32<block_q5_0> {
  static constexpr bool kSigned = false;
  static W32 load(const block_q5_0& b) {
    const float d = f16_to_f32(b.d);
    return {_mm256_or_si256(nibbles32(b.qs), fifth_bits(b.qh)), d, -16 * d};
  }
};
template <>
struct Q32<block_q5_1> {
  static constexpr bool kSigned = false;
  static W32 load(const block_q5_1& b) {
    return {_mm256_or_si256(nibbles32(b.qs), fifth_bits(b.qh)), f16_to_f32(b.d), f16_to_f32(b.m)};
  }
};
template <>
struct Q32<block_q8_0> {
#if PRIMA_VNNI
  static constexpr bool kSigned = false;
  static W32 load(const block_q8_0& b) {
    const float d = f16_to_f32(b.d);
    return {_mm256_xor_si256(load256(b.qs), _mm256_set1_epi8(static_cast<char>(0x80))), d, -128 * d};
  }
#else
  static constexpr bool kSigned = true;
  static W32 load(const block_q8_0& b) { return {load256(b.qs), f16_to_f32(b.d), 0.0f}; }
#endif
};
template <>
struct Q32<block_iq4_nl> {
#if PRIMA_VNNI
  static constexpr bool kSigned = false;
  static W32 load(const block_iq4_nl& b) {  // codebook + 128
    const __m256i table = _mm256_setr_epi8(1, 24, 45, 63, 79, 93, 106, 118, -127, -115, -103, -90, -75, -59, -39, -15,
                                           1, 24, 45, 63, 79, 93, 106, 118, -127, -115, -103, -90, -75, -59, -39, -15);
    const float d = f16_to_f32(b.d);
    return {_mm256_shuffle_epi8(table, nibbles32(b.qs)), d, -128 * d};
  }
#else
  static constexpr bool kSigned = true;
  static W32 load(const block_iq4_nl& b) {
    const __m256i table = _mm256_setr_epi8(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113,
                                           -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
    return {_mm256_shuffle_epi8(table, nibbles32(b.qs)), f16_to_f32(b.d), 0.0f};
  }
#endif
};

// One weight block against Cc activation rows, into acc / bacc.
template <class B, int Cc>
static inline __attribute__((always_inline)) void q32_block(const B& wb, const block_q8_32* const (&ab)[Cc], int64_t i,
                                                            __m256 (&acc)[Cc], float (&bacc)[Cc]) {
  const W32 k = Q32<B>::load(wb);
  #pragma GCC unroll 8
  for (int c = 0; c < Cc; ++c) {
    const block_q8_32& q = ab[c][i];
    const __m256i qv = load256(q.qs);
    const __m256i p = Q32<B>::kSigned ? dot_s8s8(k.u, qv) : dot_u8s8(k.u, qv);
    acc[c] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(k.d * q.d), acc[c]);
    bacc[c] += k.bias * q.s;
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
    const block_q8_32* ab[Cc];
    #pragma GCC unroll 8
    for (int c = 0; c < Cc; ++c) ab[c] = reinterpret_cast<const block_q8_32*>(a + c * as);
    // Two sets of accumulators (even / odd blocks) so that the FMA latency does not bound decode (Cc == 1).
    __m256 acc0[Cc], acc1[Cc];
    float bacc0[Cc], bacc1[Cc];
    #pragma GCC unroll 8
    for (int c = 0; c < Cc; ++c) {
      acc0[c] = acc1[c] = _mm256_setzero_ps();
      bacc0[c] = bacc1[c] = 0;
    }
    const int64_t nb = n / 32;
    int64_t i = 0;
    for (; i + 2 <= nb; i += 2) {
      q32_block(wb[i], ab, i, acc0, bacc0);
      q32_block(wb[i + 1], ab, i + 1, acc1, bacc1);
    }
    if (i < nb) q32_block(wb[i], ab, i, acc0, bacc0);
    #pragma GCC unroll 8
    for (int c = 0; c < Cc; ++c) y[c * ldy] = hsum(_mm256_add_ps(acc0[c], acc1[c])) + bacc0[c] + bacc1[c];
  }
};
