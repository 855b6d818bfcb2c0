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

// The canonical 8 fma lanes and reduction tree of vec.h (L8 of x86_vf.inl), K rows at a time so that their
// dependent fma chains overlap.
template <int K>
static inline void dot_rows_k(const uint16_t* rows, size_t stride, const float* x, int64_t n, float* out) {
  __m256 acc[K];
#pragma GCC unroll 4
  for (int k = 0; k < K; ++k) acc[k] = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xv = _mm256_loadu_ps(x + i);
#pragma GCC unroll 4
    for (int k = 0; k < K; ++k) acc[k] = _mm256_fmadd_ps(l8_load(F16W{}, rows + k * stride + i), xv, acc[k]);
  }
  if (i < n) {
    const int part = static_cast<int>(n - i);
    const __m256 xv = l8_load_part(F32W{}, x + i, part);
#pragma GCC unroll 4
    for (int k = 0; k < K; ++k) acc[k] = _mm256_fmadd_ps(l8_load_part(F16W{}, rows + k * stride + i, part), xv, acc[k]);
  }
#pragma GCC unroll 4
  for (int k = 0; k < K; ++k) out[k] = l8_sum(acc[k]);
}

static void dot_rows_x86(const uint16_t* rows, size_t stride, int64_t n_rows, const float* x, int64_t n, float* out) {
  int64_t r = 0;
  for (; r + 4 <= n_rows; r += 4) dot_rows_k<4>(rows + r * stride, stride, x, n, out + r);
  for (; r < n_rows; ++r) dot_rows_k<1>(rows + r * stride, stride, x, n, out + r);
}

// y[i] = fma(alpha[r], row r [i], y[i]) for r in order (vec.h), four rows per pass over y.
static void axpy_rows_x86(const uint16_t* rows, size_t stride, int64_t n_rows, const float* alpha, int64_t n, float* y) {
  int64_t r = 0;
  for (; r + 4 <= n_rows; r += 4) {
    const uint16_t* a0 = rows + r * stride;
    const uint16_t *a1 = a0 + stride, *a2 = a1 + stride, *a3 = a2 + stride;
    const VF w0 = vf_set1(alpha[r]), w1 = vf_set1(alpha[r + 1]), w2 = vf_set1(alpha[r + 2]), w3 = vf_set1(alpha[r + 3]);
    int64_t i = 0;
    for (; i + kVF <= n; i += kVF) {
      VF v = vf_load(F32W{}, y + i);
      v = vf_fma(vf_load(F16W{}, a0 + i), w0, v);
      v = vf_fma(vf_load(F16W{}, a1 + i), w1, v);
      v = vf_fma(vf_load(F16W{}, a2 + i), w2, v);
      v = vf_fma(vf_load(F16W{}, a3 + i), w3, v);
      vf_store(y + i, v);
    }
    for (; i < n; ++i) {
      float v = y[i];
      v = __builtin_fmaf(alpha[r], f16_to_f32(a0[i]), v);
      v = __builtin_fmaf(alpha[r + 1], f16_to_f32(a1[i]), v);
      v = __builtin_fmaf(alpha[r + 2], f16_to_f32(a2[i]), v);
      v = __builtin_fmaf(alpha[r + 3], f16_to_f32(a3[i]), v);
      y[i] = v;
    }
  }
  for (; r < n_rows; ++r) {
    const uint16_t* a = rows + r * stride;
    const VF w = vf_set1(alpha[r]);
    int64_t i = 0;
    for (; i + kVF <= n; i += kVF) vf_store(y + i, vf_fma(vf_load(F16W{}, a + i), w, vf_load(F32W{}, y + i)));
    for (; i < n; ++i) y[i] = __builtin_fmaf(alpha[r], f16_to_f32(a[i]), y[i]);
  }
}
