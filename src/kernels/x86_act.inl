// x86 activation quantizers, bit-identical to quantize_act_*_ref (act.cpp): id = 127 / max|x|,
// q = round-to-nearest-even(x * id); 32-blocks store d = fp16(max|x| / 127), 256-blocks d = 1 / id.

// 32 floats -> 32 int8 (in order) given id; returns the four i32 vectors' sum in *sum.
static inline __m256i quantize32(const float* x, __m256 id, __m256i* isum) {
  __m256i q[4];
  for (int k = 0; k < 4; ++k) {
    const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), id);
    q[k] = _mm256_cvtps_epi32(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  }
  *isum = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
  // packs work per 128-bit lane: [q0 lo, q1 lo, q0 hi, q1 hi] -> fix the order with one permute.
  const __m256i p01 = _mm256_packs_epi32(q[0], q[1]), p23 = _mm256_packs_epi32(q[2], q[3]);
  const __m256i p = _mm256_packs_epi16(p01, p23);
  return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static inline float absmax(const float* x, int n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_setzero_ps();
  for (int i = 0; i < n; i += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)));
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

static inline float round_fp16(float v) { return _cvtsh_ss(_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT)); }

template <bool kFp16MinSum>
static void quantize_32(const float* x, void* act, int64_t n) {
  auto* y = static_cast<block_q8_32x8*>(act);
  const int64_t nb = n / 32;
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    block_q8_32x8& g = y[i / 8];
    const int b = static_cast<int>(i % 8);
    const float amax = absmax(x, 32);
    const float d = amax / 127.0f;
    const float id = amax != 0 ? 127.0f / amax : 0.0f;
    __m256i isum;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(g.qs + 32 * b), quantize32(x, _mm256_set1_ps(id), &isum));
    const int isum_total = hsum_i32(isum);
    const float sum = static_cast<float>(isum_total);
    g.d[b] = round_fp16(d);
    g.sum[b] = isum_total;
    g.s[b] = kFp16MinSum ? round_fp16(d * sum) : g.d[b] * sum;
  }
  zero_unused_q8_32_blocks(y, nb);
}

static void quantize_q8_32(const float* x, void* act, int64_t n) { quantize_32<false>(x, act, n); }
static void quantize_q8_1(const float* x, void* act, int64_t n) { quantize_32<true>(x, act, n); }

static void quantize_q8_K(const float* x, void* act, int64_t n) {
  auto* y = static_cast<block_q8_K*>(act);
  for (int64_t i = 0; i < n / QK_K; ++i, x += QK_K) {
    const float amax = absmax(x, QK_K);
    const float id = amax != 0 ? 127.0f / amax : 0.0f;
    const __m256 idv = _mm256_set1_ps(id);
    for (int g = 0; g < QK_K / 32; ++g) {
      __m256i isum;
      const __m256i q = quantize32(x + 32 * g, idv, &isum);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + 32 * g), q);
      // Sums of the two groups of 16: widen to i16 and add pairs horizontally.
      const __m256i w0 = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(q));
      const __m256i w1 = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(q, 1));
      y[i].bsums[2 * g] = static_cast<int16_t>(hsum_i32(_mm256_madd_epi16(w0, _mm256_set1_epi16(1))));
      y[i].bsums[2 * g + 1] = static_cast<int16_t>(hsum_i32(_mm256_madd_epi16(w1, _mm256_set1_epi16(1))));
    }
    y[i].d = amax != 0 ? 1.0f / id : 0.0f;
  }
  copy_q8_K_tile_bytes(act, n);
}
