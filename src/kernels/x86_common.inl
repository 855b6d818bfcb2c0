// x86 SIMD helpers shared by the x86 kernel tables. Included (inside an anonymous namespace) by gemm_avx2.cpp,
// gemm_avxvnni.cpp, gemm_avx512.cpp and gemm_amx.cpp, which compile it with their own flags; everything is static
// so that no two share an out-of-line copy, and none shares one with baseline code. For the same reason these
// translation units must not call inline functions of other headers (core/fp16.h, std::min, ...): an
// out-of-line copy compiled with AVX flags could be picked by the linker for baseline callers.
//
// With VNNI the 8-bit products use vpdpbusd / vpdpwssd on 256-bit vectors: AVX512-VNNI (+VL, EVEX: the avx512
// table) or AVX-VNNI (VEX: the avxvnni table, Alder Lake and later client Intel cores, which have no AVX-512);
// dpbusd / dpwssd below are either. Without VNNI (avx2), the pair vpmaddubsw + vpmaddwd. vpmaddubsw saturates its
// i16 pair sums, so it is only given unsigned values below 64 (K-quants, 4/5-bit nibbles); 8-bit signed weights go
// through the sign trick instead. Code for zmm tests __AVX512F__, not PRIMA_VNNI.
// dpbusd / dpwssd are macros, not wrapper functions: with wrappers GCC scheduled the avx512 K-quant decode kernel
// differently (decode_l2/Q4_K 1-2 % slower); as macros the avx512 table compiles to the code it had before.
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
#define PRIMA_VNNI 1
#define dpbusd _mm256_dpbusd_epi32
#define dpwssd _mm256_dpwssd_epi32
#elif defined(__AVXVNNI__)
#define PRIMA_VNNI 1
#define dpbusd _mm256_dpbusd_avx_epi32
#define dpwssd _mm256_dpwssd_avx_epi32
#else
#define PRIMA_VNNI 0
#endif

static inline float f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }

static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

static inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
  return _mm_cvtsi128_si32(s);
}

static inline __m256i load256(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// 8 i32: each the sum of 4 adjacent products u8 (u < 64 without VNNI) × s8.
static inline __m256i dot_u8s8(__m256i u, __m256i s) {
#if PRIMA_VNNI
  return dpbusd(_mm256_setzero_si256(), u, s);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
#endif
}

// The same for two signed vectors: |a| × (b with a's sign).
static inline __m256i dot_s8s8(__m256i a, __m256i b) {
  return dot_u8s8(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
}

// acc + (i16 pairs of p) · (i16 pairs of s), as i32.
static inline __m256i madd_acc(__m256i acc, __m256i p, __m256i s) {
#if PRIMA_VNNI
  return dpwssd(acc, p, s);
#else
  return _mm256_add_epi32(acc, _mm256_madd_epi16(p, s));
#endif
}

static inline int min_int(int a, int b) { return a < b ? a : b; }

// Horizontal sums without vphaddd: on Zen 4 it issues one every 2 cycles, against 2 per cycle for the
// unpacks and 4 for the adds that replace it (integer sums: any order gives the same result).
//   sum_pairs(a, b) = [a0+a2, b0+b2, a1+a3, b1+b3 | a4+a6, b4+b6, a5+a7, b5+b7]
//   sum_quads(s, t) of two sum_pairs results = [Σa0..3, Σb0..3, Σc0..3, Σd0..3 | the same of lanes 4..7]
//     (s = sum_pairs(a, b), t = sum_pairs(c, d)): the layout of hadd(hadd(a, b), hadd(c, d)).
static inline __m256i sum_pairs(__m256i a, __m256i b) {
  return _mm256_add_epi32(_mm256_unpacklo_epi32(a, b), _mm256_unpackhi_epi32(a, b));
}
static inline __m256i sum_quads(__m256i s, __m256i t) {
  return _mm256_add_epi32(_mm256_unpacklo_epi64(s, t), _mm256_unpackhi_epi64(s, t));
}

// 8 vectors of 8 i32 -> their transpose (out[k] lane r = in[r] lane k).
static inline void transpose8_epi32(const __m256i in[8], __m256i out[8]) {
  __m256i t[8], s[8];
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    t[2 * k] = _mm256_unpacklo_epi32(in[2 * k], in[2 * k + 1]);
    t[2 * k + 1] = _mm256_unpackhi_epi32(in[2 * k], in[2 * k + 1]);
  }
#pragma GCC unroll 2
  for (int k = 0; k < 2; ++k) {
    s[4 * k] = _mm256_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
    s[4 * k + 1] = _mm256_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
    s[4 * k + 2] = _mm256_unpacklo_epi64(t[4 * k + 1], t[4 * k + 3]);
    s[4 * k + 3] = _mm256_unpackhi_epi64(t[4 * k + 1], t[4 * k + 3]);
  }
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    out[k] = _mm256_permute2x128_si256(s[k], s[k + 4], 0x20);
    out[k + 4] = _mm256_permute2x128_si256(s[k], s[k + 4], 0x31);
  }
}

// The 4 bytes at q in every 32-bit lane.
static inline __m256i bcast4(const int8_t* q) {
  int32_t v;
  std::memcpy(&v, q, 4);
  return _mm256_set1_epi32(v);
}



// ---- tiles ------------------------------------------------------------------------------------------------
// A kernel K provides R (weight rows) and C (activation rows) per register tile and
//   template <int R, int C> static void run(int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as,
//                                           float* y, size_t ldy);   // y[c * ldy + r], r < R, c < C
// tile_impl covers any nr × nc with full tiles and remainders.

template <class K, int R>
static inline void run_cols(int cc, int64_t n, const uint8_t* w, size_t ws, const uint8_t* a, size_t as, float* y,
                            size_t ldy) {
  switch (cc) {
    case 1: K::template run<R, 1>(n, w, ws, a, as, y, ldy); break;
    case 2: if constexpr (K::C >= 2) K::template run<R, 2>(n, w, ws, a, as, y, ldy); break;
    case 3: if constexpr (K::C >= 3) K::template run<R, 3>(n, w, ws, a, as, y, ldy); break;
    case 4: if constexpr (K::C >= 4) K::template run<R, 4>(n, w, ws, a, as, y, ldy); break;
    case 5: if constexpr (K::C >= 5) K::template run<R, 5>(n, w, ws, a, as, y, ldy); break;
    case 6: if constexpr (K::C >= 6) K::template run<R, 6>(n, w, ws, a, as, y, ldy); break;
    case 7: if constexpr (K::C >= 7) K::template run<R, 7>(n, w, ws, a, as, y, ldy); break;
    case 8: if constexpr (K::C >= 8) K::template run<R, 8>(n, w, ws, a, as, y, ldy); break;
    default: break;
  }
}

template <class K>
static void tile_impl(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as, int nc, float* y,
                      size_t ldy) {
  static_assert(K::C >= 1 && K::C <= 8);
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  for (int c0 = 0; c0 < nc; c0 += K::C) {
    const int cc = min_int(K::C, nc - c0);
    int r = 0;
    for (; r + K::R <= nr; r += K::R) run_cols<K, K::R>(cc, n, wb + r * ws, ws, ab + c0 * as, as, y + c0 * ldy + r, ldy);
    if constexpr (K::R > 1) {
      for (; r < nr; ++r) run_cols<K, 1>(cc, n, wb + r * ws, ws, ab + c0 * as, as, y + c0 * ldy + r, ldy);
    }
  }
}

// ---- decode: software prefetch of the weight rows ------------------------------------------------------------
// A decode step reads block i of 8 weight rows (8 streams per thread) and computes on it for ~20 cycles a row
// and K-quant super-block. Streamed from memory, the K-quant kernels then ran at 72-78 % of a pure read of the
// same bytes in the same work items (2 threads, dynamic 256 KB items, 8 streams each): the hardware prefetchers
// keep too few lines in flight while the core computes. prefetcht1 (into L2, not L1) of the lines
// kDecodePrefetchBytes ahead in every row, one per 64 bytes, made the decode matmuls of a Llama-3-8B Q4_K_M layer
// stack 1.26-1.36x faster (paired passes in one process, huge pages; 1.16x in 4 KiB pages), and the kernels then
// read at 105 % of that pure read (77 % before). Per type: Q6_K 1.25x, Q4_K 1.07x, Q5_K 1.08x, Q3_K 1.05x, Q8_0
// 1.15-1.21x, Q4_0 1.04x, IQ4_NL 1.05x, Q5_0 0.98-1.07x; the AVX2 kernels on the Q4_K_M stack 1.31x. 512 B ahead
// gained 1.07x and 1536 B 1.06x where 1024 B gained 1.17-1.24x; prefetcht0 and prefetchnta lost (0.69-0.87x), and
// so did Q2_K (84-byte blocks, two prefetches each: 0.96x), which keeps none. The K-quants prefetch every line
// of every block; the 32-value types (18-34 byte blocks) one line per row every 64 bytes of blocks. Past the end
// of a row the lines ahead are the next row of the same stream (matmul's eighths), and a prefetch beyond the
// mapping is dropped, never a fault.
constexpr int kDecodePrefetchBytes = 1024;
template <class B>
static inline void prefetch_ahead_l2(const B* block) {
  const char* p = reinterpret_cast<const char*>(block) + kDecodePrefetchBytes;
#pragma GCC unroll 4
  for (size_t o = 0; o < sizeof(B); o += 64) _mm_prefetch(p + o, _MM_HINT_T1);
}

// ---- packed prefill tiles -----------------------------------------------------------------------------------
// Weight rows in vector lanes, tokens broadcast (x86_gemm_k_packed.inl, x86_gemm_q32_packed.inl). A packer P
// provides
//   using Block (the weight block), Acc (__m256 or __m512, RowsF with VNNI: one float lane per row), Packed (kRows rows' block,
//   transposed: lane r = row r);
//   static constexpr int kRows: rows per group (8, or 16 with zmm); kBlocks: blocks per chunk (packed on the
//   stack: L1-sized); kTokens: tokens per block (kPackTokens, or more where a pack is dearer);
//   static void pack(const Block* const* wr, int64_t i0, int nb_chunk, Packed* pk);   // wr: kRows rows
//   template <int T> static void run(const Packed* pk, int nb_chunk, const uint8_t* const* a, int64_t i0,
//                                    Acc* acc);   // acc[t] lane r += the chunk's terms, in block order
// Rows past nr repeat the last row (their lanes are not stored). Loop order: token blocks of kPackTokens; passes
// over kPackGroups × 8 rows; chunks of kBlocks blocks; each kRows-row group of the chunk packed once and run
// against every token of the block. Only one chunk of the block's activations must stay in L2 across the row
// groups, whatever the row length, so matmul gives these kernels tiles of kPackTokens tokens (tile_tokens in
// the table), and the float accumulators (acc, 32 KB) carry each output across the chunks in block order.
// Packing costs about as much as running ~13 tokens over the packed K-quant rows; 128 tokens per pack measured
// 2-9 % faster than 64 (1 and 2 threads), and the 16-token tiles that whole 14336-value rows (FFN down) allowed
// in L2 ~20 % slower.
constexpr int kPackTokens = 128;   // tokens per block unless the packer says (P::kTokens; matmul's tile_tokens)
constexpr int kPackGroups = 8;     // rows per pass / 8: their accumulators, kPackGroups × kPackTokens × 32 B
constexpr int kPackMinTokens = 8;  // fewer tokens go through the per-row kernels

#if PRIMA_VNNI
#include "kernels/x86_rows.inl"
#endif

static inline void store_lanes(float* p, __m256 v) { _mm256_storeu_ps(p, v); }
#if defined(__AVX512F__)
static inline void store_lanes(float* p, __m512 v) { _mm512_storeu_ps(p, v); }
#endif

template <class P>
static void tile_packed(int64_t nb, const uint8_t* w, size_t ws, int nr, const uint8_t* a, size_t as, int nc, float* y,
                        size_t ldy) {
  using B = typename P::Block;
  using Acc = typename P::Acc;
  constexpr int R = P::kRows;                   // rows per group (vector lanes)
  constexpr int G = kPackGroups * 8 / R;        // groups per pass: kPackGroups × 8 rows
  const int n_groups = (nr + R - 1) / R;
  alignas(64) typename P::Packed pk[P::kBlocks];
  alignas(64) Acc acc[G][P::kTokens];
  for (int c0 = 0; c0 < nc; c0 += P::kTokens) {
    const int cn = min_int(P::kTokens, nc - c0);
    for (int g0 = 0; g0 < n_groups; g0 += G) {
      const int gn = min_int(G, n_groups - g0);
      for (int g = 0; g < gn; ++g)
        for (int c = 0; c < cn; ++c) acc[g][c] = Acc{};
      for (int64_t i0 = 0; i0 < nb; i0 += P::kBlocks) {
        const int nbc = static_cast<int>(nb - i0 < P::kBlocks ? nb - i0 : P::kBlocks);
        for (int g = 0; g < gn; ++g) {
          const int r0 = (g0 + g) * R;
          const B* wr[R];
#pragma GCC unroll 16
          for (int k = 0; k < R; ++k) wr[k] = reinterpret_cast<const B*>(w + min_int(r0 + k, nr - 1) * ws);  // pad
          P::pack(wr, i0, nbc, pk);
          int c = 0;
          const uint8_t* at[8];
          auto rows = [&](int n_rows) {
            for (int t = 0; t < n_rows; ++t) at[t] = a + (c0 + c + t) * as;
          };
          for (; c + 8 <= cn; c += 8) {
            rows(8);
            P::template run<8>(pk, nbc, at, i0, acc[g] + c);
          }
          if (c + 4 <= cn) {
            rows(4);
            P::template run<4>(pk, nbc, at, i0, acc[g] + c);
            c += 4;
          }
          for (; c < cn; ++c) {
            rows(1);
            P::template run<1>(pk, nbc, at, i0, acc[g] + c);
          }
        }
      }
      for (int g = 0; g < gn; ++g) {
        const int r0 = (g0 + g) * R, rn = min_int(R, nr - r0);
        for (int c = 0; c < cn; ++c) {
          float* out = y + (c0 + c) * ldy + r0;
          if (rn == R) {  // a whole group: one store (the loop below becomes a call to memcpy: 2-3 % of prefill)
            store_lanes(out, acc[g][c]);
            continue;
          }
          alignas(64) float lanes[R];
          store_lanes(lanes, acc[g][c]);
          for (int k = 0; k < rn; ++k) out[k] = lanes[k];
        }
      }
    }
  }
}
