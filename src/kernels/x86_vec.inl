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
#pragma GCC unroll 4
  for (int k = 0; k < K; ++k)
#pragma GCC unroll 8
    for (int h = 0; h < NX; ++h) out[h * ldo + k] = l8_sum(acc[k][h]);
}

// K × NX <= 8 chains (AVX2 has 16 registers): 4 rows for one or two vectors, 2 for three or four, else 1.
template <int NX>
static void dot_rows_nx(const uint16_t* rows, size_t stride, int64_t n_rows, const float* x, int64_t n, float* out) {
  constexpr int K = NX <= 2 ? 4 : NX <= 4 ? 2 : 1;
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
