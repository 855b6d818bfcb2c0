// x86 variants of vec.h (see vec.cpp for the references), on the widest float vectors (x86_vf.inl).

static void f32_to_f16_x86(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + kVF <= n; i += kVF) vf_store_f16(y + i, vf_load(F32W{}, x + i));
  for (; i < n; ++i) y[i] = f32_to_f16_bits(x[i]);
}

static void f16_to_f32_x86(const uint16_t* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + kVF <= n; i += kVF) vf_store(y + i, vf_load(F16W{}, x + i));
  for (; i < n; ++i) y[i] = f16_to_f32(x[i]);
}

static void round_f16_x86(float* x, int64_t n) {
  int64_t i = 0;
  for (; i + kVF <= n; i += kVF) vf_store(x + i, vf_round_f16(vf_load(F32W{}, x + i)));
  for (; i < n; ++i) x[i] = f16_to_f32(f32_to_f16_bits(x[i]));
}

// The canonical tree of vec.h (l_j + l_{j+4}, l_j + l_{j+2}, l_0 + l_1) of 8 vectors a[0..7] at once:
// out[o] = l8_sum(a[o]), the same additions, 21 instructions for the 8 where l8_sum takes ~6 each.
static inline void l8_sum8(const __m256* a, float* out) {
  __m256 s[4];  // s[p] = [a[2p]: l_j + l_{j+4}, j < 4 | a[2p + 1]: the same]
#pragma GCC unroll 4
  for (int p = 0; p < 4; ++p)
    s[p] = _mm256_add_ps(_mm256_permute2f128_ps(a[2 * p], a[2 * p + 1], 0x20),
                         _mm256_permute2f128_ps(a[2 * p], a[2 * p + 1], 0x31));
  // v = [a0: t0 t1, a2: t0 t1 | a1: t0 t1, a3: t0 t1] with t_j = s_j + s_{j+2}; w the same for a4..a7
  const __m256 v = _mm256_add_ps(_mm256_shuffle_ps(s[0], s[1], 0x44), _mm256_shuffle_ps(s[0], s[1], 0xee));
  const __m256 w = _mm256_add_ps(_mm256_shuffle_ps(s[2], s[3], 0x44), _mm256_shuffle_ps(s[2], s[3], 0xee));
  // r = t0 + t1 = [a0 a2 a4 a6 | a1 a3 a5 a7]
  const __m256 r = _mm256_add_ps(_mm256_shuffle_ps(v, w, 0x88), _mm256_shuffle_ps(v, w, 0xdd));
  alignas(32) float t[8];
  _mm256_store_ps(t, r);
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    out[2 * k] = t[k];
    out[2 * k + 1] = t[4 + k];
  }
}

// The canonical 8 fma lanes and reduction tree of vec.h (L8 of x86_vf.inl), for K rows × NX vectors at a time:
// each row's chunk is converted once for the NX vectors, and the K × NX dependent fma chains overlap.
template <int K, int NX>
static inline void dot_rows_k(const uint16_t* rows, size_t stride, const float* x, int64_t n, float* out,
                              int64_t ldo) {
  __m256 acc[K][NX];
#pragma GCC unroll 4
  for (int k = 0; k < K; ++k)
#pragma GCC unroll 8
    for (int h = 0; h < NX; ++h) acc[k][h] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
#pragma GCC unroll 4
    for (int k = 0; k < K; ++k) {
      const __m256 a = l8_load(F16W{}, rows + k * stride + i);
#pragma GCC unroll 8
      for (int h = 0; h < NX; ++h) acc[k][h] = _mm256_fmadd_ps(a, _mm256_loadu_ps(x + h * n + i), acc[k][h]);
    }
  }
  if (i < n) {
    const int part = static_cast<int>(n - i);
#pragma GCC unroll 4
    for (int k = 0; k < K; ++k) {
      const __m256 a = l8_load_part(F16W{}, rows + k * stride + i, part);
#pragma GCC unroll 8
      for (int h = 0; h < NX; ++h) acc[k][h] = _mm256_fmadd_ps(a, l8_load_part(F32W{}, x + h * n + i, part), acc[k][h]);
    }
  }
  // The canonical trees of 8 chains at a time, transposed (l8_sum8); the last group padded with zeros.
  constexpr int N = K * NX, G = (N + 7) / 8;
  __m256 a[8 * G];
#pragma GCC unroll 16
  for (int o = 0; o < 8 * G; ++o) a[o] = o < N ? acc[o / NX][o % NX] : _mm256_setzero_ps();
  float sums[8 * G];
#pragma GCC unroll 2
  for (int g = 0; g < G; ++g) l8_sum8(a + 8 * g, sums + 8 * g);
#pragma GCC unroll 16
  for (int o = 0; o < N; ++o) out[(o % NX) * ldo + o / NX] = sums[o];
}

// K × NX chains of 4-cycle fmas, as many as the registers hold beside the row and the vectors: with AVX-512's
// 32, up to 16 (4 rows for the 4 query heads of a Llama-3 KV head); with AVX2's 16, up to 8.
template <int NX>
static void dot_rows_nx(const uint16_t* rows, size_t stride, int64_t n_rows, const float* x, int64_t n, float* out) {
#if defined(__AVX512F__)
  constexpr int K = NX <= 2 ? 8 : NX <= 4 ? 4 : 2;
#else
  constexpr int K = NX <= 2 ? 4 : NX <= 4 ? 2 : 1;
#endif
  int64_t r = 0;
  for (; r + K <= n_rows; r += K) dot_rows_k<K, NX>(rows + r * stride, stride, x, n, out + r, n_rows);
  for (; r < n_rows; ++r) dot_rows_k<1, NX>(rows + r * stride, stride, x, n, out + r, n_rows);
}

static void dot_rows_x86(const uint16_t* rows, size_t stride, int64_t n_rows, const float* x, int64_t n_x, int64_t n,
                         float* out) {
  for (int64_t h0 = 0; h0 < n_x; h0 += 8) {  // up to 8 vectors per pass over the rows
    const float* xh = x + h0 * n;
    float* oh = out + h0 * n_rows;
    switch (n_x - h0 < 8 ? n_x - h0 : 8) {
      case 1: dot_rows_nx<1>(rows, stride, n_rows, xh, n, oh); break;
      case 2: dot_rows_nx<2>(rows, stride, n_rows, xh, n, oh); break;
      case 3: dot_rows_nx<3>(rows, stride, n_rows, xh, n, oh); break;
      case 4: dot_rows_nx<4>(rows, stride, n_rows, xh, n, oh); break;
      case 5: dot_rows_nx<5>(rows, stride, n_rows, xh, n, oh); break;
      case 6: dot_rows_nx<6>(rows, stride, n_rows, xh, n, oh); break;
      case 7: dot_rows_nx<7>(rows, stride, n_rows, xh, n, oh); break;
      default: dot_rows_nx<8>(rows, stride, n_rows, xh, n, oh); break;
    }
  }
}

// y[h*n + i] = fma(alpha[h*n_rows + r], row r [i], y[h*n + i]) for r in order (vec.h), four rows per pass over
// each y, each row's chunk converted once for the n_x vectors.
static void axpy_rows_x86(const uint16_t* rows, size_t stride, int64_t n_rows, const float* alpha, int64_t n_x,
                          int64_t n, float* y) {
  int64_t r = 0;
  for (; r + 4 <= n_rows; r += 4) {
    const uint16_t* a0 = rows + r * stride;
    const uint16_t *a1 = a0 + stride, *a2 = a1 + stride, *a3 = a2 + stride;
    int64_t i = 0;
    for (; i + kVF <= n; i += kVF) {
      const VF v0 = vf_load(F16W{}, a0 + i), v1 = vf_load(F16W{}, a1 + i), v2 = vf_load(F16W{}, a2 + i),
               v3 = vf_load(F16W{}, a3 + i);
      for (int64_t h = 0; h < n_x; ++h) {
        const float* w = alpha + h * n_rows + r;
        float* yh = y + h * n + i;
        VF v = vf_load(F32W{}, yh);
        v = vf_fma(v0, vf_set1(w[0]), v);
        v = vf_fma(v1, vf_set1(w[1]), v);
        v = vf_fma(v2, vf_set1(w[2]), v);
        v = vf_fma(v3, vf_set1(w[3]), v);
        vf_store(yh, v);
      }
    }
    for (; i < n; ++i) {
      const float f0 = f16_to_f32(a0[i]), f1 = f16_to_f32(a1[i]), f2 = f16_to_f32(a2[i]), f3 = f16_to_f32(a3[i]);
      for (int64_t h = 0; h < n_x; ++h) {
        const float* w = alpha + h * n_rows + r;
        float v = y[h * n + i];
        v = __builtin_fmaf(w[0], f0, v);
        v = __builtin_fmaf(w[1], f1, v);
        v = __builtin_fmaf(w[2], f2, v);
        v = __builtin_fmaf(w[3], f3, v);
        y[h * n + i] = v;
      }
    }
  }
  for (; r < n_rows; ++r) {
    const uint16_t* a = rows + r * stride;
    int64_t i = 0;
    for (; i + kVF <= n; i += kVF) {
      const VF v0 = vf_load(F16W{}, a + i);
      for (int64_t h = 0; h < n_x; ++h)
        vf_store(y + h * n + i, vf_fma(v0, vf_set1(alpha[h * n_rows + r]), vf_load(F32W{}, y + h * n + i)));
    }
    for (; i < n; ++i) {
      const float f = f16_to_f32(a[i]);
      for (int64_t h = 0; h < n_x; ++h) y[h * n + i] = __builtin_fmaf(alpha[h * n_rows + r], f, y[h * n + i]);
    }
  }
}

// ---- e(x), softmax and silu_mul on vec.h's canonical exp: the scalar reference's float operations, lane by lane
#if defined(__AVX512F__)
static inline VF vf_exp(VF x) {
  const VF n =
      _mm512_roundscale_ps(_mm512_mul_ps(x, vf_set1(kExpLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  VF r = _mm512_fmadd_ps(n, vf_set1(-kExpLn2Hi), x);
  r = _mm512_fmadd_ps(n, vf_set1(kExpLn2Lo), r);
  VF p = vf_set1(kExpP[0]);
#pragma GCC unroll 5
  for (int k = 1; k < 6; ++k) p = _mm512_fmadd_ps(p, r, vf_set1(kExpP[k]));
  const VF y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), vf_set1(1.0f));
  const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(n), _mm512_set1_epi32(127)), 23);
  VF v = _mm512_mul_ps(y, _mm512_castsi512_ps(e));
  v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, vf_set1(kExpHi), _CMP_GT_OQ), v, vf_set1(INFINITY));
  v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, vf_set1(kExpLo), _CMP_LT_OQ), v, _mm512_setzero_ps());
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), v, x);
}
// The 16 double lanes of the softmax sum (lane j: values j, j + 16, ...) += 16 floats.
struct SumLanes {
  __m512d l[2] = {_mm512_setzero_pd(), _mm512_setzero_pd()};
  void add16(const float* v) {
    l[0] = _mm512_add_pd(l[0], _mm512_cvtps_pd(_mm256_loadu_ps(v)));
    l[1] = _mm512_add_pd(l[1], _mm512_cvtps_pd(_mm256_loadu_ps(v + 8)));
  }
  void store(double* out) const {
    _mm512_storeu_pd(out, l[0]);
    _mm512_storeu_pd(out + 8, l[1]);
  }
};
#else
static inline VF vf_exp(VF x) {
  const VF n = _mm256_round_ps(_mm256_mul_ps(x, vf_set1(kExpLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  VF r = _mm256_fmadd_ps(n, vf_set1(-kExpLn2Hi), x);
  r = _mm256_fmadd_ps(n, vf_set1(kExpLn2Lo), r);
  VF p = vf_set1(kExpP[0]);
#pragma GCC unroll 5
  for (int k = 1; k < 6; ++k) p = _mm256_fmadd_ps(p, r, vf_set1(kExpP[k]));
  const VF y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), vf_set1(1.0f));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(n), _mm256_set1_epi32(127)), 23);
  VF v = _mm256_mul_ps(y, _mm256_castsi256_ps(e));
  v = _mm256_blendv_ps(v, vf_set1(INFINITY), _mm256_cmp_ps(x, vf_set1(kExpHi), _CMP_GT_OQ));
  v = _mm256_blendv_ps(v, _mm256_setzero_ps(), _mm256_cmp_ps(x, vf_set1(kExpLo), _CMP_LT_OQ));
  return _mm256_blendv_ps(v, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}
struct SumLanes {
  __m256d l[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd()};
  void add16(const float* v) {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) l[k] = _mm256_add_pd(l[k], _mm256_cvtps_pd(_mm_loadu_ps(v + 4 * k)));
  }
  void store(double* out) const {
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) _mm256_storeu_pd(out + 4 * k, l[k]);
  }
};
#endif
static_assert(kSoftmaxLanes == 16);

// The scalar e(x) of the tails: the vector one on a vector of x.
static inline float exp1_x86(float x) {
  alignas(64) float v[kVF] = {};
  v[0] = x;
  vf_store(v, vf_exp(vf_load(F32W{}, v)));
  return v[0];
}

static void exp_row_x86(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + kVF <= n; i += kVF) vf_store(y + i, vf_exp(vf_load(F32W{}, x + i)));
  for (; i < n; ++i) y[i] = exp1_x86(x[i]);
}

static void softmax_x86(float* x, int64_t n, float scale) {
  // max of the scaled values (exact whatever the order)
  const VF s = vf_set1(scale);
  VF mv = vf_set1(-INFINITY);
  int64_t i = 0;
  for (; i + kVF <= n; i += kVF) {
    const VF v = vf_mul(vf_load(F32W{}, x + i), s);
    vf_store(x + i, v);
    mv = vf_max(mv, v);
  }
  alignas(64) float lanes[kVF];
  vf_store(lanes, mv);
  float m = -INFINITY;
  for (int k = 0; k < kVF; ++k) m = lanes[k] > m ? lanes[k] : m;
  for (; i < n; ++i) {
    x[i] = x[i] * scale;
    m = x[i] > m ? x[i] : m;
  }
  // e(x - m), summed in 16 double lanes
  const VF mvec = vf_set1(m);
  SumLanes sum;
  i = 0;
  for (; i + 16 <= n; i += 16) {
#pragma GCC unroll 2
    for (int k = 0; k < 16; k += kVF) vf_store(x + i + k, vf_exp(vf_sub(vf_load(F32W{}, x + i + k), mvec)));
    sum.add16(x + i);
  }
  double l[16];
  sum.store(l);
  for (int j = 0; i < n; ++i, ++j) {
    x[i] = exp1_x86(x[i] - m);
    l[j] += x[i];
  }
  for (int width = 8; width >= 1; width /= 2)
    for (int j = 0; j < width; ++j) l[j] += l[j + width];
  const auto inv = static_cast<float>(1.0 / l[0]);
  const VF iv = vf_set1(inv);
  i = 0;
  for (; i + kVF <= n; i += kVF) vf_store(x + i, vf_mul(vf_load(F32W{}, x + i), iv));
  for (; i < n; ++i) x[i] = x[i] * inv;
}

static void silu_mul_x86(float* g, const float* u, int64_t n) {
  const VF one = vf_set1(1.0f);
  int64_t i = 0;
  for (; i + kVF <= n; i += kVF) {
    const VF gv = vf_load(F32W{}, g + i);
    vf_store(g + i, vf_mul(vf_div(gv, vf_add(one, vf_exp(vf_neg(gv)))), vf_load(F32W{}, u + i)));
  }
  for (; i < n; ++i) g[i] = (g[i] / (1.0f + exp1_x86(-g[i]))) * u[i];
}
