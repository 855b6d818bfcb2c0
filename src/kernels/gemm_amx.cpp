// AMX kernel table: avx512's, with the prefill tiles of the quantized types on the AMX tile unit (TDPBSUD /
// TDPBSSD: a 16×64 by 64×16 block of 8-bit products summed into a 16×16 block of i32 per instruction, 16384
// products where a zmm vpdpbusd does 64). Every output keeps the canonical order of gemm_impl.h bit for bit.
// The K-quants first; the 32-value block types (AmxQ32) further down.
//
// The canonical K-quant sum of a super-block multiplies each 16-value sub-block by an integer scale before the
// float step, and a tile product cannot scale inside its sum. So the weights go into the tiles pre-scaled: sc·u
// (|sc·u| < 2^13 for every K-quant) split into its low byte (unsigned) and high byte (signed),
//     isum = Σ q·lo(sc·u) + 256 · Σ q·hi(sc·u)          (exact in i32: |isum| < 256 · 8192 · 127 < 2^31)
// two tile products per 64 values (one for Q2_K, whose sc·u < 256). The mins' sum Σ_j mn[j]·bsums[j] and the
// float steps run on the vector units, 16 rows per zmm as in the avx512 packed kernel:
//     v = ((d · da) · float(isum)) - ((dm · da) · float(msum));  acc = acc + v     (lane r = weight row r)
//
// Tiles: A = 16 tokens × 64 activation bytes, loaded from the q8_K rows' 64-byte aligned copy of their bytes
// (gemm_impl.h; from the blocks themselves, whose bytes straddle cache lines, the loads ran ~3x slower); B = 16
// packed weight rows in the tile unit's 4-byte-interleaved layout (row p: bytes 4p..4p+3 of each weight row),
// the transposed layout the avx512 packed kernel already builds (pack_rows8), multiplied out into lo / hi;
// C = 16 tokens × 16 rows of i32, one zmm of rows per token. Fewer than 16 tokens, and a tile's last nc % 16,
// go through the avx512 kernel: they give the same bits.
//
// What bounds it (a harness of one 16-token run, everything in L1/L2, 2.97 GHz): a super-block of 16 rows × 16
// tokens takes ~500 cycles where its 8 tile products need 128: the tile loads of A come from L2 (~140 cycles),
// and the float steps (~160 cycles for 16 tokens, 10 per token) overlap the tile work only in part.
// prefill/Q4_K 4096x4096 on 2 threads: 1.5x the avx512 kernel; Q6_K 1.87x (bench/kernels, in turns).
#include "kernels/gemm_impl.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__AVX512VNNI__) && \
    defined(__AMX_TILE__) && defined(__AMX_INT8__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstddef>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/amx_tiles.h"
#include "tensor/blocks.h"

namespace prima::kernels::detail {
namespace {
#include "kernels/x86_common.inl"
#include "kernels/x86_gemm_k.inl"
#include "kernels/x86_gemm_q32.inl"

// The tile registers' shapes (amx_tiles.h), one configuration per kernel family below. It is per thread: each
// call loads its own and releases the tiles when it returns (the OS then need not save them).

// tilestored without GCC's memory clobber: the asm names the 1 KB it writes, so values the compiler keeps in
// registers (the accumulators) stay there.
#define PRIMA_TILE_STORE(src, buf)                                                                         \
  __asm__ volatile("tilestored %%tmm" #src ", (%1,%2,1)" : "=m"(*reinterpret_cast<int32_t(*)[16][16]>(buf)) \
                   : "r"(static_cast<void*>(buf)), "r"(64L))

// One super-block of 16 weight rows as tile-unit B operands: for p < 64, lane r (4 bytes) of lo[p] / hi[p] =
// the low / high bytes of sc·u of values 4p..4p+3 of row r; mn[m] lane r = row r's mins of sub-blocks 2m and
// 2m + 1 as an i16 pair (pack_rows8's: 4·sc for Q3_K, 32·sc for Q6_K); d, dm the rows' f16 scales as floats.
struct PackedAmx {
  __m512i lo[64], hi[64], mn[8];
  __m512 d, dm;
};

// acc + the i16 pair at q broadcast to every lane, dotted with v's i16 pairs (vpdpwssd with an embedded
// broadcast: one instruction where GCC emits a vpbroadcastd load beside it).
static inline __m512i dpwssd_bcast16(__m512i acc, __m512i v, const int16_t* q) {
  typedef int32_t __attribute__((may_alias)) i32_alias;
  __asm__("vpdpwssd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(v), "m"(*reinterpret_cast<const i32_alias*>(q)));
  return acc;
}

template <class B, ggml_type kType>
struct AmxK {
  static constexpr bool kHi = !std::is_same_v<B, block_q2_K>;  // Q2_K: sc·u <= 15·3, one byte
  using Block = B;
  using Packed = PackedAmx;
  static constexpr ggml_type kTypeId = kType;
  static constexpr int kBlockValues = QK_K;
  static constexpr int kRunTokens = 16;  // tokens per run: one tile of A
  static constexpr int kBlocks = 4;    // super-blocks packed at a time (35 KB; 2: 0.95x, 8: 0.94x)
  static constexpr int kTokens = 256;  // tokens per tile (matmul's tile_tokens): each pack serves 16 tiles of A
  static constexpr int16_t kTileTokens = kTokens;
  // Rows per tile: the super-block chunks are the outer loop, so the rows need not fit L2 with the activations;
  // more rows per tile read the tile's activations (~30 KB per token with 14336-value rows) fewer times.
  static constexpr int16_t kTileRows = 256;

  static void pack(const B* const* wr, int64_t i0, int nb_chunk, PackedAmx* pk) {
    struct alignas(64) {
      __m512i w[64], sc[16];
    } t;
    const __m512i low_bytes = _mm512_set1_epi16(0x00ff);
    constexpr __mmask64 kOdd = 0xaaaaaaaaaaaaaaaaull;
    for (int ib = 0; ib < nb_chunk; ++ib) {
      PackedAmx& p = pk[ib];
      pack_lane_rows(wr, i0 + ib, t.w, t.sc, p.mn, p.d, p.dm);
#pragma GCC unroll 2
      for (int j = 0; j < 16; ++j) {
        // (sc, sc) as an i16 pair per lane
        const __m512i sc16 = _mm512_or_si512(_mm512_and_si512(t.sc[j], _mm512_set1_epi32(0xffff)), _mm512_slli_epi32(t.sc[j], 16));
#pragma GCC unroll 4
        for (int k = 0; k < 4; ++k) {
          const int pi = 4 * j + k;
          const __m512i w = t.w[pi];
          const __m512i pe = _mm512_mullo_epi16(_mm512_and_si512(w, low_bytes), sc16);  // values 4pi, 4pi + 2
          const __m512i po = _mm512_mullo_epi16(_mm512_srli_epi16(w, 8), sc16);         // values 4pi + 1, 4pi + 3
          p.lo[pi] = _mm512_mask_blend_epi8(kOdd, pe, _mm512_slli_epi16(po, 8));
          if constexpr (kHi) p.hi[pi] = _mm512_mask_blend_epi8(kOdd, _mm512_srli_epi16(pe, 8), po);
        }
      }
    }
  }

  // The float steps of super-block i for 4 tokens of activation rows a (as_ bytes apart), from their tile sums
  // lo / hi (i32, row t = token t, lane r = weight row r): acc[t] lane r += the term.
  static inline void finish(const PackedAmx& p, const int32_t (*lo)[16], const int32_t (*hi)[16], const uint8_t* a,
                            size_t as_, int64_t i, __m512* acc) {
#pragma GCC unroll 4
    for (int t = 0; t < 4; ++t) {
      const auto& b = *reinterpret_cast<const block_q8_K*>(a + t * as_ + i * sizeof(block_q8_K));
      __m512i isum = _mm512_load_si512(lo[t]);
      if constexpr (kHi) isum = _mm512_add_epi32(isum, _mm512_slli_epi32(_mm512_load_si512(hi[t]), 8));
      // Σ_j mn[j] · bsums[j], the token's bsums pairs broadcast from memory, in two chains
      __m512i m0 = dpwssd_bcast16(_mm512_setzero_si512(), p.mn[0], b.bsums);
      __m512i m1 = dpwssd_bcast16(_mm512_setzero_si512(), p.mn[1], b.bsums + 2);
#pragma GCC unroll 3
      for (int m = 2; m < 8; m += 2) {
        m0 = dpwssd_bcast16(m0, p.mn[m], b.bsums + 2 * m);
        m1 = dpwssd_bcast16(m1, p.mn[m + 1], b.bsums + 2 * m + 2);
      }
      const __m512i msum = _mm512_add_epi32(m0, m1);
      const __m512 dav = _mm512_set1_ps(b.d);
      const __m512 v = _mm512_sub_ps(_mm512_mul_ps(_mm512_mul_ps(p.d, dav), _mm512_cvtepi32_ps(isum)),
                                     _mm512_mul_ps(_mm512_mul_ps(p.dm, dav), _mm512_cvtepi32_ps(msum)));
      acc[t] = _mm512_add_ps(acc[t], v);
    }
  }

  // The products of super-block i (its packed rows p) with 16 tokens: C tiles CL (low bytes) and CH (high), A
  // tiles alternating between tmm0 and tmm3, B in tmm1 / tmm2; after each quarter, fin(k).
#define PRIMA_AMX_SB(CL, CH, FIN)                                               \
  do {                                                                          \
    _tile_zero(CL);                                                             \
    if constexpr (kHi) _tile_zero(CH);                                          \
    for (int k = 0; k < 4; k += 2) {                                            \
      _tile_loadd(0, q + 64 * k, static_cast<long>(as_));                       \
      _tile_loadd(1, p.lo + 16 * k, 64);                                        \
      _tile_dpbsud(CL, 0, 1);                                                   \
      if constexpr (kHi) {                                                      \
        _tile_loadd(2, p.hi + 16 * k, 64);                                      \
        _tile_dpbssd(CH, 0, 2);                                                 \
      }                                                                         \
      FIN(k);                                                                   \
      _tile_loadd(3, q + 64 * (k + 1), static_cast<long>(as_));                 \
      _tile_loadd(1, p.lo + 16 * (k + 1), 64);                                  \
      _tile_dpbsud(CL, 3, 1);                                                   \
      if constexpr (kHi) {                                                      \
        _tile_loadd(2, p.hi + 16 * (k + 1), 64);                                \
        _tile_dpbssd(CH, 3, 2);                                                 \
      }                                                                         \
      FIN(k + 1);                                                               \
    }                                                                           \
  } while (0)

  // Super-blocks i0 .. i0 + nb_chunk - 1 against 16 tokens (one tile of A per 64 values, from a): acc[0..15].
  // Even super-blocks sum into tmm4 / tmm5, odd ones into tmm6 / tmm7: a super-block's products never wait for
  // the store of the one before (with one set they took turns: 1.6x slower). Its float steps run while the
  // tile unit works on the next one, a quarter of the tokens after each quarter of the products.
  static void run(const PackedAmx* pk, int nb_chunk, const uint8_t* a, size_t as_, size_t tiles, int64_t i0,
                  __m512* acc_mem) {
    __m512 acc[16];
#pragma GCC unroll 16
    for (int t = 0; t < 16; ++t) acc[t] = acc_mem[t];
    alignas(64) int32_t c[2][2][16][16];  // [super-block % 2][lo, hi][token][row]
    auto fin_of = [&](int jb) {
      return [&, jb](int k) {
        if (jb < 0) return;
        int32_t(*cb)[16][16] = c[jb % 2];
        finish(pk[jb], cb[0] + 4 * k, cb[1] + 4 * k, a + 4 * k * as_, as_, i0 + jb, acc + 4 * k);
      };
    };
    int ib = 0;
    for (; ib < nb_chunk; ++ib) {
      const PackedAmx& p = pk[ib];
      const uint8_t* q = a + tiles + static_cast<size_t>(i0 + ib) * QK_K;  // the rows' aligned copy of the qs
      const auto fin = fin_of(ib - 1);
      if (ib % 2 == 0) {
        PRIMA_AMX_SB(4, 5, fin);
        PRIMA_TILE_STORE(4, c[ib % 2][0]);
        if constexpr (kHi) PRIMA_TILE_STORE(5, c[ib % 2][1]);
      } else {
        PRIMA_AMX_SB(6, 7, fin);
        PRIMA_TILE_STORE(6, c[ib % 2][0]);
        if constexpr (kHi) PRIMA_TILE_STORE(7, c[ib % 2][1]);
      }
    }
    const auto fin = fin_of(ib - 1);  // the last super-block's float steps
    for (int k = 0; k < 4; ++k) fin(k);
#pragma GCC unroll 16
    for (int t = 0; t < 16; ++t) acc_mem[t] = acc[t];
  }
#undef PRIMA_AMX_SB

  // The shared loops (amx_tile below): every tile 16 rows of 64 bytes; A from the rows' aligned copy.
  static void load_config() {
    const TileConfig c = TileConfig{}.set(0, 7, 16, 64);
    _tile_loadconfig(&c);
  }
  static size_t a_offset(int64_t n) { return q8_K_tile_offset(n); }
  static void tile(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as_, int nc, float* y,
                   size_t ldy);
};

// The 32-value block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL). The canonical sum of a block needs no scale
// inside it, isum = Σ u·q with u the unsigned values, so the avx512 packer's transposed block (Q32Packer: lane r
// = 4 bytes of row r, 8 vectors per block) is the B tile as it is, and one TDPBSUD gives 16 tokens × 16 rows of
// a block. The float steps stay per block on zmm (lane r = row r):
//     v = ((dw · da) · float(isum)) + (bw · s);  acc = acc + v
// A tile row is one block's 32 activation bytes, which in block_q8_32x8 groups (352 bytes, qs at 96) start on a
// 32-byte boundary: no copy needed. A tile product takes as long for 32 bytes of K as for 64, and the float steps
// come once per 32 values, so these gain less than the K-quants.
template <class B, ggml_type kType>
struct AmxQ32 {
  using Packer = Q32Packer<B>;
  using Block = B;
  using Packed = PackedQ32;
  static constexpr ggml_type kTypeId = kType;
  static constexpr int kBlockValues = 32;
  static constexpr int kRunTokens = 32;  // tokens per run: two tiles of A share each B tile
  static constexpr int kBlocks = 32;   // blocks packed at a time (Q32Packer's chunk: 20 KB, L1)
  static constexpr int kTokens = 256;
  static constexpr int16_t kTileTokens = kTokens;
  static constexpr int16_t kTileRows = 256;

  // The float steps of block i for 16 tokens (activation rows a, as_ bytes apart) from their tile sums c.
  static inline void finish(const PackedQ32& p, const int32_t (*c)[16], const uint8_t* a, size_t as_, int64_t i,
                            __m512* acc) {
    const int64_t gi = i / 8;
    const int b = static_cast<int>(i % 8);
#pragma GCC unroll 4
    for (int t = 0; t < 16; ++t) {
      const block_q8_32x8& g = reinterpret_cast<const block_q8_32x8*>(a + t * as_)[gi];
      const __m512 dd = _mm512_mul_ps(p.dw, _mm512_set1_ps(g.d[b]));
      const __m512 v = _mm512_add_ps(_mm512_mul_ps(dd, _mm512_cvtepi32_ps(_mm512_load_si512(c[t]))),
                                     _mm512_mul_ps(p.bw, _mm512_set1_ps(g.s[b])));
      acc[t] = _mm512_add_ps(acc[t], v);
    }
  }

  // Blocks i0 .. i0 + nb_chunk - 1 against 32 tokens (tiles of A at a and a + 16 rows): acc[0..31]. Blocks
  // alternate between B in tmm2 with C in tmm4 / tmm5 and B in tmm3 with C in tmm6 / tmm7, so that a block's
  // products need not wait for the last block's stores; its float steps follow the next block's products.
#define PRIMA_AMX_Q32(TB, C0, C1)                                        \
  do {                                                                   \
    _tile_zero(C0);                                                      \
    _tile_zero(C1);                                                      \
    _tile_loadd(TB, pk[ib].w, 64);                                       \
    _tile_loadd(0, q, static_cast<long>(as_));                           \
    _tile_dpbsud(C0, 0, TB);                                             \
    _tile_loadd(1, q + 16 * as_, static_cast<long>(as_));                \
    _tile_dpbsud(C1, 1, TB);                                             \
    fin();                                                               \
    PRIMA_TILE_STORE(C0, c[ib % 2][0]);                                  \
    PRIMA_TILE_STORE(C1, c[ib % 2][1]);                                  \
  } while (0)
  static void run(const PackedQ32* pk, int nb_chunk, const uint8_t* a, size_t as_, size_t /*a_offset*/, int64_t i0,
                  __m512* acc) {
    alignas(64) int32_t c[2][2][16][16];  // [block % 2][token tile][token][row]
    for (int ib = 0; ib <= nb_chunk; ++ib) {
      // The last block's float steps, issued between this block's products and its stores.
      auto fin = [&] {
        if (ib == 0) return;
        const int jb = ib - 1;
        finish(pk[jb], c[jb % 2][0], a, as_, i0 + jb, acc);
        finish(pk[jb], c[jb % 2][1], a + 16 * as_, as_, i0 + jb, acc + 16);
      };
      if (ib == nb_chunk) {
        fin();
        break;
      }
      const int64_t i = i0 + ib;
      const uint8_t* q = a + (i / 8) * static_cast<int64_t>(sizeof(block_q8_32x8)) + offsetof(block_q8_32x8, qs) +
                         32 * (i % 8);
      if (ib % 2 == 0) {
        PRIMA_AMX_Q32(2, 4, 5);
      } else {
        PRIMA_AMX_Q32(3, 6, 7);
      }
    }
  }
#undef PRIMA_AMX_Q32

  // The shared loops (amx_tile below): A (tmm0, tmm1) 16 tokens × 32 bytes, B (tmm2, tmm3) 8 rows of 64 bytes
  // (one block of 16 weight rows), C (tmm4 .. tmm7) 16 × 16 i32; A straight from the block_q8_32x8 groups.
  static void load_config() {
    const TileConfig c = TileConfig{}.set(0, 1, 16, 32).set(2, 3, 8, 64).set(4, 7, 16, 64);
    _tile_loadconfig(&c);
  }
  static size_t a_offset(int64_t) { return 0; }
  static void pack(const B* const* wr, int64_t i0, int nb_chunk, PackedQ32* pk) { Packer::pack(wr, i0, nb_chunk, pk); }
  static void tile(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as_, int nc, float* y,
                   size_t ldy);
};

// The loops of an AMX tile, for both families K (AmxK, AmxQ32): tokens in runs of K::kRunTokens (the rest through
// avx512's kernel: the same bits), blocks of the row in chunks of K::kBlocks as the outer loop (a chunk's
// activations, cn rows × kBlocks blocks, stay in L2 while every 16-row group runs over them; row groups outermost
// streamed the tile's whole activations, 2.2 MB with 4096-value q8_K rows, more than L2, once per row group),
// each row group's chunk packed once, and float accumulators per (row group, token) carrying every output
// across the chunks in block order.
template <class K>
void amx_tile(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as_, int nc, float* y, size_t ldy) {
  using B = typename K::Block;
  constexpr int kTokens = K::kTokens, kBlocks = K::kBlocks;
  const TileFn base = avx512_kernels()->tile[static_cast<int>(K::kTypeId)];
  const int full = nc / K::kRunTokens * K::kRunTokens;
  if (full == 0) {
    base(n, w, ws, nr, a, as_, nc, y, ldy);
    return;
  }
  const auto* wb = static_cast<const uint8_t*>(w);
  const auto* ab = static_cast<const uint8_t*>(a);
  const int64_t nb = n / K::kBlockValues;
  const size_t a_offset = K::a_offset(n);
  const int n_groups = (nr + 15) / 16;
  // The float accumulators of every (16-row group, token) of the tile; grown once per thread, never shrunk.
  struct alignas(64) Lanes {
    float v[16];
  };
  thread_local std::vector<Lanes> acc_store;
  if (acc_store.size() < static_cast<size_t>(n_groups) * kTokens) acc_store.resize(static_cast<size_t>(n_groups) * kTokens);
  __m512* const acc = reinterpret_cast<__m512*>(acc_store.data());
  alignas(64) typename K::Packed pk[kBlocks];
  K::load_config();
  for (int c0 = 0; c0 < full; c0 += kTokens) {
    const int cn = min_int(kTokens, full - c0);
    for (int g = 0; g < n_groups; ++g)
      for (int c = 0; c < cn; ++c) acc[g * kTokens + c] = _mm512_setzero_ps();
    for (int64_t i0 = 0; i0 < nb; i0 += kBlocks) {
      const int nbc = static_cast<int>(nb - i0 < kBlocks ? nb - i0 : kBlocks);
      for (int g = 0; g < n_groups; ++g) {
        const int r0 = 16 * g;
        const B* wr[16];
#pragma GCC unroll 16
        for (int k = 0; k < 16; ++k) wr[k] = reinterpret_cast<const B*>(wb + min_int(r0 + k, nr - 1) * ws);  // pad
        K::pack(wr, i0, nbc, pk);
        __asm__ volatile("" ::: "memory");  // tileloadd's asm does not say it reads pk: keep the stores before it
        for (int t = 0; t < cn; t += K::kRunTokens)
          K::run(pk, nbc, ab + (c0 + t) * as_, as_, a_offset, i0, acc + g * kTokens + t);
      }
    }
    for (int g = 0; g < n_groups; ++g) {
      const int r0 = 16 * g, rn = min_int(16, nr - r0);
      for (int c = 0; c < cn; ++c) {
        float* out = y + (c0 + c) * ldy + r0;
        if (rn == 16) {
          _mm512_storeu_ps(out, acc[g * kTokens + c]);
        } else {
          _mm512_mask_storeu_ps(out, static_cast<__mmask16>((1u << rn) - 1), acc[g * kTokens + c]);
        }
      }
    }
  }
  _tile_release();
  if (full < nc) base(n, w, ws, nr, ab + full * as_, as_, nc - full, y + full * ldy, ldy);
}

template <class B, ggml_type kType>
void AmxK<B, kType>::tile(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as_, int nc, float* y,
                          size_t ldy) {
  amx_tile<AmxK>(n, w, ws, nr, a, as_, nc, y, ldy);
}

template <class B, ggml_type kType>
void AmxQ32<B, kType>::tile(int64_t n, const void* w, size_t ws, int nr, const void* a, size_t as_, int nc, float* y,
                            size_t ldy) {
  amx_tile<AmxQ32>(n, w, ws, nr, a, as_, nc, y, ldy);
}

IsaKernels make_amx_table() {
  IsaKernels k = *avx512_kernels();
  auto set = [&]<class K>(ggml_type t, K) {
    k.tile[static_cast<int>(t)] = K::tile;
    k.tile_tokens[static_cast<int>(t)] = K::kTileTokens;
    k.tile_rows[static_cast<int>(t)] = K::kTileRows;
  };
  set(ggml_type::Q2_K, AmxK<block_q2_K, ggml_type::Q2_K>{});
  set(ggml_type::Q3_K, AmxK<block_q3_K, ggml_type::Q3_K>{});
  set(ggml_type::Q4_K, AmxK<block_q4_K, ggml_type::Q4_K>{});
  set(ggml_type::Q5_K, AmxK<block_q5_K, ggml_type::Q5_K>{});
  set(ggml_type::Q6_K, AmxK<block_q6_K, ggml_type::Q6_K>{});
  set(ggml_type::Q4_0, AmxQ32<block_q4_0, ggml_type::Q4_0>{});
  set(ggml_type::Q4_1, AmxQ32<block_q4_1, ggml_type::Q4_1>{});
  set(ggml_type::Q5_0, AmxQ32<block_q5_0, ggml_type::Q5_0>{});
  set(ggml_type::Q5_1, AmxQ32<block_q5_1, ggml_type::Q5_1>{});
  set(ggml_type::Q8_0, AmxQ32<block_q8_0, ggml_type::Q8_0>{});
  set(ggml_type::IQ4_NL, AmxQ32<block_iq4_nl, ggml_type::IQ4_NL>{});
  return k;
}

}  // namespace

const IsaKernels* amx_kernels() {
  static const IsaKernels k = make_amx_table();
  return &k;
}

}  // namespace prima::kernels::detail
#else
namespace prima::kernels::detail {
const IsaKernels* amx_kernels() { return nullptr; }
}  // namespace prima::kernels::detail
#endif
