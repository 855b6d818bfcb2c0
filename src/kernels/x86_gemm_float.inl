// x86 dot products of F32 / F16 / BF16 weights with f32 activations, register-blocked R rows × C tokens:
// each weight vector is loaded (and converted) once per C tokens, each activation vector once per R rows.
// AVX2 uses 8-wide ymm, AVX-512 16-wide zmm (more accumulators fit in its 32 registers); see x86_vf.inl.

template <class W>
struct FloatKernel {
  using T = typename W::T;
#if defined(__AVX512F__)
  static constexpr int R = 4;  // 16 accumulators + 4 weight vectors + 1 activation of 32 registers
  static constexpr int C = 4;
#else
  static constexpr int R = 2;  // 8 accumulators + 2 weight vectors + 1 activation of 16 registers
  static constexpr int C = 4;
#endif

  template <int Rr, int Cc>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y, size_t ldy) {
    const T* wr[Rr];
    const float* ac[Cc];
    #pragma GCC unroll 8
    for (int r = 0; r < Rr; ++r) wr[r] = reinterpret_cast<const T*>(w + r * ws);
    #pragma GCC unroll 8
    for (int c = 0; c < Cc; ++c) ac[c] = reinterpret_cast<const float*>(a + c * as);
    VF acc[Rr][Cc];
    #pragma GCC unroll 8
    for (int r = 0; r < Rr; ++r)
      #pragma GCC unroll 8
      for (int c = 0; c < Cc; ++c) acc[r][c] = vf_zero();
    int64_t i = 0;
    for (; i + kVF <= n; i += kVF) {
      VF wv[Rr];
      #pragma GCC unroll 8
      for (int r = 0; r < Rr; ++r) wv[r] = vf_load(W{}, wr[r] + i);
      #pragma GCC unroll 8
      for (int c = 0; c < Cc; ++c) {
        const VF av = vf_load(F32W{}, ac[c] + i);
        #pragma GCC unroll 8
        for (int r = 0; r < Rr; ++r) acc[r][c] = vf_fma(wv[r], av, acc[r][c]);
      }
    }
    #pragma GCC unroll 8
    for (int r = 0; r < Rr; ++r) {
      #pragma GCC unroll 8
      for (int c = 0; c < Cc; ++c) {
        float s = vf_sum(acc[r][c]);
        for (int64_t t = i; t < n; ++t) s += scalar_to_f32(W{}, wr[r][t]) * ac[c][t];
        y[c * ldy + r] = s;
      }
    }
  }
};
