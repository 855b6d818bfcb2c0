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

static inline float dot_row(const uint16_t* a, const float* x, int64_t n) {
  VF s0 = vf_zero(), s1 = vf_zero();
  int64_t i = 0;
  for (; i + 2 * kVF <= n; i += 2 * kVF) {
    s0 = vf_fma(vf_load(F16W{}, a + i), vf_load(F32W{}, x + i), s0);
    s1 = vf_fma(vf_load(F16W{}, a + i + kVF), vf_load(F32W{}, x + i + kVF), s1);
  }
  for (; i + kVF <= n; i += kVF) s0 = vf_fma(vf_load(F16W{}, a + i), vf_load(F32W{}, x + i), s0);
  float s = vf_sum(s0) + vf_sum(s1);
  for (; i < n; ++i) s += f16_to_f32(a[i]) * x[i];
  return s;
}

static void dot_rows_x86(const uint16_t* rows, size_t stride, int64_t n_rows, const float* x, int64_t n, float* out) {
  for (int64_t r = 0; r < n_rows; ++r) out[r] = dot_row(rows + r * stride, x, n);
}

// y += Σ alpha[r] * row r, four rows per pass over y.
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
      y[i] += alpha[r] * f16_to_f32(a0[i]);
      y[i] += alpha[r + 1] * f16_to_f32(a1[i]);
      y[i] += alpha[r + 2] * f16_to_f32(a2[i]);
      y[i] += alpha[r + 3] * f16_to_f32(a3[i]);
    }
  }
  for (; r < n_rows; ++r) {
    const uint16_t* a = rows + r * stride;
    const VF w = vf_set1(alpha[r]);
    int64_t i = 0;
    for (; i + kVF <= n; i += kVF) vf_store(y + i, vf_fma(vf_load(F16W{}, a + i), w, vf_load(F32W{}, y + i)));
    for (; i < n; ++i) y[i] += alpha[r] * f16_to_f32(a[i]);
  }
}
