// x86 dot products of F32 / F16 / BF16 weights with f32 activations, register-blocked R rows × C tokens:
// each weight vector is loaded (and converted) once per C tokens, each activation vector once per R rows.
// Every output keeps the 8 canonical fma lanes of gemm_impl.h in one ymm (AVX-512 too: its 32 registers hold
// more of them; a zmm would put 16 lanes in one register and change the order), the last partial 8 values
// zero-padded, and ends with the canonical reduction tree.

template <class W>
struct FloatKernel {
  using T = typename W::T;
  static constexpr int16_t kTileTokens = 0;  // tiles sized by matmul for L2
#if defined(__AVX512F__)
  static constexpr int R = 4;  // up to 24 accumulators + 4 weight vectors + 1 activation of 32 registers
  // BF16 converts with two instructions per 8 weights: spread over 6 tokens (F32 and F16 are best at 4).
  static constexpr int C = __is_same(W, BF16W) ? 6 : 4;
#else
  static constexpr int R = 2;  // 8 accumulators + 2 weight vectors + 1 activation of 16 registers
  static constexpr int C = 4;
#endif

#if defined(__AVX512F__)
  static constexpr int kDecodeRows = 8;  // one token: more rows, so that more independent fma chains overlap
#else
  static constexpr int kDecodeRows = 4;
#endif

  template <int Rr, int Cc>
  static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y, size_t ldy) {
    const T* wr[Rr];
    const float* ac[Cc];
    #pragma GCC unroll 8
    for (int r = 0; r < Rr; ++r) wr[r] = reinterpret_cast<const T*>(w + r * ws);
    #pragma GCC unroll 8
    for (int c = 0; c < Cc; ++c) ac[c] = reinterpret_cast<const float*>(a + c * as);
    __m256 acc[Rr][Cc];
    #pragma GCC unroll 8
    for (int r = 0; r < Rr; ++r)
      #pragma GCC unroll 8
      for (int c = 0; c < Cc; ++c) acc[r][c] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      __m256 wv[Rr];
      #pragma GCC unroll 8
      for (int r = 0; r < Rr; ++r) wv[r] = l8_load(W{}, wr[r] + i);
      #pragma GCC unroll 8
      for (int c = 0; c < Cc; ++c) {
        const __m256 av = l8_load(F32W{}, ac[c] + i);
        #pragma GCC unroll 8
        for (int r = 0; r < Rr; ++r) acc[r][c] = _mm256_fmadd_ps(wv[r], av, acc[r][c]);
      }
    }
    if (i < n) {  // the zero-padded last 8
      const int part = static_cast<int>(n - i);
      __m256 wv[Rr];
      #pragma GCC unroll 8
      for (int r = 0; r < Rr; ++r) wv[r] = l8_load_part(W{}, wr[r] + i, part);
      #pragma GCC unroll 8
      for (int c = 0; c < Cc; ++c) {
        const __m256 av = l8_load_part(F32W{}, ac[c] + i, part);
        #pragma GCC unroll 8
        for (int r = 0; r < Rr; ++r) acc[r][c] = _mm256_fmadd_ps(wv[r], av, acc[r][c]);
      }
    }
    #pragma GCC unroll 8
    for (int r = 0; r < Rr; ++r)
      #pragma GCC unroll 8
      for (int c = 0; c < Cc; ++c) y[c * ldy + r] = l8_sum(acc[r][c]);
  }

  static void tile(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int nc, float* y,
                   size_t ldy) {
    if (nc > 1) return tile_impl<FloatKernel>(n, w, ws, nr, a, as, nc, y, ldy);
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* ab = static_cast<const uint8_t*>(a);
    int r = 0;
    for (; r + kDecodeRows <= nr; r += kDecodeRows) run<kDecodeRows, 1>(n, wb + r * ws, ws, ab, as, y + r, ldy);
    for (; r < nr; ++r) run<1, 1>(n, wb + r * ws, ws, ab, as, y + r, ldy);
  }
};
