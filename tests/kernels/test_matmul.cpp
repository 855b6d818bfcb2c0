// matmul for every type and every instruction set available here, against two references:
//  - exact: a double-precision product of the dequantized weights with the dequantized *activations* (x after
//    the activation format's reference quantizer): only float rounding may differ (tight tolerance);
//  - naive: the same with the original f32 x: bounded by the 8-bit activation error.
// And every instruction set and thread count bit-identical to the scalar kernels on one thread (the canonical
// order of gemm_impl.h). Shapes: n_tok 1, 2, 3, 5, 7, 64 (decode, small batches, every remainder of the
// prefill kernels' token groups), odd n_out, n_out not a multiple of the thread count or of the kernels' row
// groups, rows with tail groups, 1..4 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include <fmt/format.h>

#include "core/error.h"
#include "kernels/gemm_impl.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"
#include "tensor/blocks.h"
#include "test_util.h"

namespace prima::kernels {
namespace {

using test::random_floats;

struct Problem {
  ggml_type type;
  int64_t n_in, n_out, n_tok;
  std::vector<uint8_t> wq;          // [n_out][row_bytes]
  std::vector<float> wd;            // dequantized [n_out][n_in]
  std::vector<float> x;             // [n_tok][n_in]
  std::vector<float> y_exact, y_naive, scale;  // [n_tok][n_out]; scale = Σ |w x'| per output

  Problem(ggml_type t, int64_t in, int64_t out, int64_t tok, uint32_t seed) : type(t), n_in(in), n_out(out), n_tok(tok) {
    const size_t rb = row_size(t, n_in);
    const auto w = random_floats(static_cast<size_t>(n_out * n_in), seed, 0.05f);
    wq.resize(rb * n_out);
    wd.resize(w.size());
    for (int64_t r = 0; r < n_out; ++r) {
      quantize_row(t, w.data() + r * n_in, wq.data() + r * rb, n_in);
      dequantize_row(t, wq.data() + r * rb, wd.data() + r * n_in, n_in);
    }
    x = random_floats(static_cast<size_t>(n_tok * n_in), seed + 1);
    const auto xq = test::act_roundtrip(t, x, n_in);
    y_exact.resize(n_tok * n_out);
    y_naive.resize(n_tok * n_out);
    scale.resize(n_tok * n_out);
    for (int64_t c = 0; c < n_tok; ++c) {
      for (int64_t r = 0; r < n_out; ++r) {
        double e = 0, nv = 0, s = 0;
        for (int64_t i = 0; i < n_in; ++i) {
          const double wv = wd[r * n_in + i];
          e += wv * xq[c * n_in + i];
          nv += wv * x[c * n_in + i];
          s += std::fabs(wv * xq[c * n_in + i]);
        }
        y_exact[c * n_out + r] = static_cast<float>(e + min_sum_correction(r, c));
        y_naive[c * n_out + r] = static_cast<float>(nv);
        scale[c * n_out + r] = static_cast<float>(s);
      }
    }
  }
  WeightMatrix matrix() const { return {type, wq.data(), n_in, n_out, row_size(type, n_in)}; }

  // Types with a min (Q4_1, Q5_1) take the min's product from the activation block's stored sum
  // s = fp16(d * Σq), as llama.cpp's Q8_1 does, not from d * Σq: Σ_b m_b * (s_b - d_b * Σq_b) is the difference.
  double min_sum_correction(int64_t r, int64_t c) const {
    using namespace detail;
    if (act_format(type) != ActFormat::q8_1) return 0;
    std::vector<uint8_t> act(act_row_bytes(ActFormat::q8_1, n_in));
    quantize_act_q8_1_ref(x.data() + c * n_in, act.data(), n_in);
    const auto* g = reinterpret_cast<const block_q8_32x8*>(act.data());
    const uint8_t* row = wq.data() + r * row_size(type, n_in);
    const size_t block_bytes = traits(type).type_size;
    double corr = 0;
    for (int64_t b = 0; b < n_in / 32; ++b) {
      fp16_t m;  // block_q4_1 and block_q5_1 both hold d then m as their first two f16 fields
      std::memcpy(&m, row + b * block_bytes + 2, 2);
      int sum = 0;
      for (int j = 0; j < 32; ++j) sum += g[b / 8].qs[32 * (b % 8) + j];
      corr += double(fp16_to_f32(m)) * (double(g[b / 8].s[b % 8]) - double(g[b / 8].d[b % 8]) * sum);
    }
    return corr;
  }
};

double naive_bound(ggml_type t) {
  return detail::act_format(t) == detail::ActFormat::f32 ? 1e-5 : 2e-2;  // 8-bit activations: ~0.7 % typical
}

class MatmulPerType : public ::testing::TestWithParam<ggml_type> {};

TEST_P(MatmulPerType, MatchesReferencesOnEveryIsaAndThreadCount) {
  const ggml_type t = GetParam();
  const int64_t bs = traits(t).block_size;
  // Row lengths: one small (float types: 21 times the 8 lanes + 4, a zero-padded tail; 32-blocks: one group of
  // 8 blocks + 3; K-quants: one super-block), one model-like.
  const int64_t small_in = bs == 1 ? 172 : bs == 32 ? 352 : 256;
  test::IsaGuard guard;
  std::vector<std::unique_ptr<ThreadPool>> pools;
  for (int n = 1; n <= 4; ++n) pools.push_back(std::make_unique<ThreadPool>(n));
  uint32_t seed = 100;
  for (int64_t n_in : {small_in, int64_t{512}}) {
    for (int64_t n_out : {int64_t{1}, int64_t{5}, int64_t{67}}) {
      for (int64_t n_tok : {int64_t{1}, int64_t{2}, int64_t{3}, int64_t{5}, int64_t{7}, int64_t{64}}) {
        const Problem p(t, n_in, n_out, n_tok, seed++);
        std::vector<float> y_scalar;
        for (Isa isa : test::available_isas()) {
          set_isa(isa);
          for (auto& pool : pools) {
            std::vector<float> y(n_tok * n_out, NAN);
            matmul(*pool, p.matrix(), p.x.data(), n_tok, y.data());
            const std::string where = fmt::format("{} isa={} n_in={} n_out={} n_tok={} threads={}", type_name(t),
                                                  isa_name(isa), n_in, n_out, n_tok, pool->n_threads());
            for (size_t i = 0; i < y.size(); ++i)
              ASSERT_NEAR(y[i], p.y_exact[i], 2e-5 * p.scale[i] + 1e-6) << where << " at " << i;
            if (!y_scalar.empty()) {
              ASSERT_TRUE(test::same_bits(y, y_scalar, where + " vs scalar"));
            }
            if (y.size() >= 64) {  // a statistic: meaningful over many outputs only
              EXPECT_LE(test::rel_rms(y.data(), p.y_naive.data(), y.size()), naive_bound(t)) << where;
            }
            if (y_scalar.empty()) y_scalar = y;
          }
        }
      }
    }
  }
}

TEST_P(MatmulPerType, LargerTiledProblems) {
  // Prefill: several row blocks, rows not a multiple of anything; 300 tokens: token blocks of the packed kernels
  // (128 or 256) and a tail. Decode: many rows, so that both the big cache-sized row blocks and the small tail
  // blocks are used. 2 and 3 threads.
  const ggml_type t = GetParam();
  test::IsaGuard guard;
  for (auto [n_in, n_out, n_tok] :
       {std::tuple<int64_t, int64_t, int64_t>{2048, 131, 70}, {512, 40, 300}, {1024, 1001, 1}}) {
    const Problem p(t, n_in, n_out, n_tok, 7);
    std::vector<float> y_scalar;
    for (int nth : {1, 2, 3}) {
      ThreadPool pool(nth);
      for (Isa isa : test::available_isas()) {
        set_isa(isa);
        std::vector<float> y(p.y_exact.size(), NAN);
        matmul(pool, p.matrix(), p.x.data(), p.n_tok, y.data());
        const std::string where = fmt::format("{} {} n_out={} threads={}", type_name(t), isa_name(isa), n_out, nth);
        for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], p.y_exact[i], 2e-5 * p.scale[i] + 1e-6) << where << " at " << i;
        if (y_scalar.empty()) y_scalar = y;
        ASSERT_TRUE(test::same_bits(y, y_scalar, where + " vs scalar"));
      }
    }
  }
}

TEST_P(MatmulPerType, RowStrideLargerThanRow) {
  // Weights inside a bigger buffer (e.g. a fused or padded tensor): row_bytes > row_size.
  const ggml_type t = GetParam();
  const Problem p(t, 512, 9, 3, 9);
  const size_t rb = row_size(t, p.n_in), stride = rb + 64;
  std::vector<uint8_t> padded(stride * p.n_out, 0xff);
  for (int64_t r = 0; r < p.n_out; ++r) std::memcpy(padded.data() + r * stride, p.wq.data() + r * rb, rb);
  ThreadPool pool(2);
  std::vector<float> y(p.y_exact.size());
  matmul(pool, {t, padded.data(), p.n_in, p.n_out, stride}, p.x.data(), p.n_tok, y.data());
  for (size_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], p.y_exact[i], 2e-5 * p.scale[i] + 1e-6) << i;
}

TEST_P(MatmulPerType, WholeTilesBeyondTheKernelsBlocking) {
  // The tile functions themselves on one tile larger than any block of the kernels inside it (x86's packed
  // K-quant prefill: 128-token blocks, 8 groups of 8 rows per pass, 8-super-block chunks of the row): 150 rows
  // (19 row groups, a partial one), 150 tokens (a second, partial token block: 16 + 4 + 1 + 1), rows of 2560 values
  // (K-quants: 10 super-blocks, chunks 8 + 2). Every table's tile bit-identical to the scalar table's.
  using namespace detail;
  const ggml_type t = GetParam();
  const int64_t n = 2560;
  const int nr = 150, nc = 150;
  const size_t ws = row_size(t, n);
  const auto w = random_floats(static_cast<size_t>(nr * n), 11, 0.05f);
  std::vector<uint8_t> wq(ws * nr);
  for (int r = 0; r < nr; ++r) quantize_row(t, w.data() + r * n, wq.data() + r * ws, n);
  const auto x = random_floats(static_cast<size_t>(nc * n), 12);
  const ActFormat f = act_format(t);
  const size_t as = f == ActFormat::f32 ? n * sizeof(float) : act_row_bytes(f, n);
  std::vector<uint8_t> act(as * nc);
  const IsaKernels& ref = *scalar_kernels();
  for (int c = 0; c < nc; ++c) {
    if (f == ActFormat::f32) {
      std::memcpy(act.data() + c * as, x.data() + c * n, as);
    } else {
      act_quantizer(ref, f)(x.data() + c * n, act.data() + c * as, n);
    }
  }
  const size_t ldy = nr + 3;  // outputs strided as in a wider matrix; the gaps must stay untouched
  std::vector<float> y_ref(ldy * nc, NAN);
  ref.tile[static_cast<int>(t)](n, wq.data(), ws, nr, act.data(), as, nc, y_ref.data(), ldy);
  for (int c = 0; c < nc; ++c)
    for (size_t r = nr; r < ldy; ++r) ASSERT_TRUE(std::isnan(y_ref[c * ldy + r])) << "scalar wrote past row " << nr;
  for (Isa isa : test::available_isas()) {
    std::vector<float> y(ldy * nc, NAN);
    kernels_for(isa).tile[static_cast<int>(t)](n, wq.data(), ws, nr, act.data(), as, nc, y.data(), ldy);
    ASSERT_TRUE(test::same_bits(y, y_ref, fmt::format("{} {} tile {}x{}", type_name(t), isa_name(isa), nr, nc)));
  }
}

// One row of n values of block type B with every byte `value_byte`, the scale bytes (`scales`, where the type has
// them) `scale_byte`, and the f16 scales 1.0: the codes at their extremes, which random weights never reach together.
template <class B>
std::vector<uint8_t> extreme_row(ggml_type t, int64_t n, uint8_t value_byte, uint8_t scale_byte) {
  std::vector<B> blocks(row_size(t, n) / sizeof(B));
  for (B& b : blocks) {
    std::memset(&b, value_byte, sizeof b);
    if constexpr (requires { b.scales; }) std::memset(b.scales, scale_byte, sizeof b.scales);
    b.d = f32_to_fp16(1.0f);
    if constexpr (requires { b.dmin; }) b.dmin = f32_to_fp16(1.0f);
    if constexpr (requires { b.m; }) b.m = f32_to_fp16(1.0f);
  }
  std::vector<uint8_t> row(blocks.size() * sizeof(B));
  std::memcpy(row.data(), blocks.data(), row.size());
  return row;
}

std::vector<uint8_t> extreme_row(ggml_type t, int64_t n, uint8_t value_byte, uint8_t scale_byte) {
  switch (t) {
    case ggml_type::Q4_0: return extreme_row<block_q4_0>(t, n, value_byte, scale_byte);
    case ggml_type::Q4_1: return extreme_row<block_q4_1>(t, n, value_byte, scale_byte);
    case ggml_type::Q5_0: return extreme_row<block_q5_0>(t, n, value_byte, scale_byte);
    case ggml_type::Q5_1: return extreme_row<block_q5_1>(t, n, value_byte, scale_byte);
    case ggml_type::Q8_0: return extreme_row<block_q8_0>(t, n, value_byte, scale_byte);
    case ggml_type::IQ4_NL: return extreme_row<block_iq4_nl>(t, n, value_byte, scale_byte);
    case ggml_type::Q2_K: return extreme_row<block_q2_K>(t, n, value_byte, scale_byte);
    case ggml_type::Q3_K: return extreme_row<block_q3_K>(t, n, value_byte, scale_byte);
    case ggml_type::Q4_K: return extreme_row<block_q4_K>(t, n, value_byte, scale_byte);
    case ggml_type::Q5_K: return extreme_row<block_q5_K>(t, n, value_byte, scale_byte);
    case ggml_type::Q6_K: return extreme_row<block_q6_K>(t, n, value_byte, scale_byte);
    default: return {};
  }
}

TEST_P(MatmulPerType, IntegerSumsAtTheirBounds) {
  // The kernels add 8-bit products in 16-bit lanes where the bounds allow it (vpmaddubsw pairs, quads added before
  // widening, vpackssdw of sub-block sums): a bound off by one term overflows only when every value and scale is at
  // its extreme and every activation has the same sign, which random weights never give. Here they are, for each
  // combination of extreme bytes (all ones, zero, 0x80, 0x7f: the largest unsigned codes and 6-bit scales, and
  // both ends of the signed 8-bit scales and values) and activations all +1, all -1, or alternating by 16 values;
  // every table bit-identical to the scalar one, for decode and for prefill (32 tokens: the packed and AMX tiles).
  const ggml_type t = GetParam();
  if (detail::act_format(t) == detail::ActFormat::f32) GTEST_SKIP() << "float weights: no integer sums";
  const int64_t n_in = 512, n_out = 32;
  const uint8_t extremes[] = {0xff, 0x00, 0x80, 0x7f};
  std::vector<std::vector<float>> xs;
  for (int kind = 0; kind < 3; ++kind) {
    std::vector<float> x(static_cast<size_t>(32 * n_in));
    for (size_t i = 0; i < x.size(); ++i) x[i] = kind == 0 ? 1.0f : kind == 1 ? -1.0f : ((i / 16) % 2 ? -1.0f : 1.0f);
    xs.push_back(std::move(x));
  }
  test::IsaGuard guard;
  ThreadPool pool(2);
  for (uint8_t vb : extremes) {
    for (uint8_t sb : extremes) {
      const std::vector<uint8_t> row = extreme_row(t, n_in, vb, sb);
      ASSERT_EQ(row.size(), row_size(t, n_in));
      std::vector<uint8_t> wq;
      for (int64_t r = 0; r < n_out; ++r) wq.insert(wq.end(), row.begin(), row.end());
      const WeightMatrix m{t, wq.data(), n_in, n_out, row.size()};
      for (size_t k = 0; k < xs.size(); ++k) {
        for (int64_t n_tok : {int64_t{1}, int64_t{32}}) {
          std::vector<float> y_scalar;
          for (Isa isa : test::available_isas()) {
            set_isa(isa);
            std::vector<float> y(static_cast<size_t>(n_tok * n_out), NAN);
            matmul(pool, m, xs[k].data(), n_tok, y.data());
            const std::string where = fmt::format("{} {} values 0x{:02x} scales 0x{:02x} activations {} n_tok={}",
                                                  type_name(t), isa_name(isa), vb, sb, k, n_tok);
            if (y_scalar.empty()) {
              for (float v : y) ASSERT_TRUE(std::isfinite(v)) << where;
              y_scalar = y;
            }
            ASSERT_TRUE(test::same_bits(y, y_scalar, where + " vs scalar"));
          }
        }
      }
    }
  }
}

std::string type_param_name(const ::testing::TestParamInfo<ggml_type>& p) { return std::string(type_name(p.param)); }

INSTANTIATE_TEST_SUITE_P(Kernels, MatmulPerType, ::testing::ValuesIn(kSupportedTypes), type_param_name);

}  // namespace
}  // namespace prima::kernels

namespace prima::kernels {
namespace {

TEST(Isa, AvailableSimdSetsHaveFullKernelTables) {
  using namespace detail;
  EXPECT_TRUE(isa_available(Isa::scalar));
  EXPECT_TRUE(isa_available(best_isa()));
  for (Isa isa : test::available_isas()) {
    const IsaKernels& k = kernels_for(isa);
    if (isa != Isa::scalar) {
      EXPECT_NE(&k, scalar_kernels()) << isa_name(isa);
    }
    for (ggml_type t : kSupportedTypes) EXPECT_NE(k.tile[static_cast<int>(t)], nullptr) << type_name(t);
    EXPECT_NE(k.quantize_q8_32, nullptr);
    EXPECT_NE(k.quantize_q8_K, nullptr);
  }
}

// scripts/test_neon.sh states which sets the emulated CPU must offer (PRIMA_EXPECT_ISAS="scalar neon neondot" on
// qemu's default CPU, "scalar neon" on a Cortex-A53), so that a detection bug cannot quietly leave a table
// untested.
TEST(Isa, AvailableSetsAreTheExpectedOnes) {
  const char* want = std::getenv("PRIMA_EXPECT_ISAS");
  if (!want) GTEST_SKIP() << "PRIMA_EXPECT_ISAS is not set";
  std::string got;
  for (Isa isa : test::available_isas()) got += std::string(got.empty() ? "" : " ") + std::string(isa_name(isa));
  EXPECT_EQ(got, want);
  EXPECT_EQ(best_isa(), test::available_isas().back());
}

// The flags Linux lists for the first CPU in /proc/cpuinfo (empty where there is none).
std::set<std::string> cpuinfo_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::set<std::string> flags;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line);
    for (std::string w; words >> w;) flags.insert(w);
    break;
  }
  return flags;
}

// An independent witness for the detection: Linux lists a feature in /proc/cpuinfo only when the CPU has it and the
// kernel manages its state. There the set must be available (else its kernels would go untested here without a
// word); elsewhere it must not be.
TEST(Isa, AmxWhereLinuxReportsIt) {
  const std::set<std::string> flags = cpuinfo_flags();
  if (flags.empty()) GTEST_SKIP() << "no /proc/cpuinfo flags";
  if (flags.count("amx_tile") && flags.count("amx_int8") && flags.count("avx512_vnni") && isa_available(Isa::avx512)) {
    EXPECT_TRUE(isa_available(Isa::amx)) << "the CPU and kernel have AMX, the amx set is unavailable";
    EXPECT_EQ(best_isa(), Isa::amx);
  } else {
    EXPECT_FALSE(isa_available(Isa::amx));
  }
}

TEST(Isa, AvxVnniWhereLinuxReportsIt) {
  const std::set<std::string> flags = cpuinfo_flags();
  if (flags.empty()) GTEST_SKIP() << "no /proc/cpuinfo flags";
  if (flags.count("avx_vnni") && isa_available(Isa::avx2)) {
    EXPECT_TRUE(isa_available(Isa::avx_vnni)) << "the CPU has AVX-VNNI, the avxvnni set is unavailable";
    // Where AVX-512 is there too, its table is preferred.
    EXPECT_EQ(best_isa() == Isa::avx_vnni, !isa_available(Isa::avx512));
  } else {
    EXPECT_FALSE(isa_available(Isa::avx_vnni));
    EXPECT_NE(best_isa(), Isa::avx_vnni);
  }
}

TEST(Isa, Q8KRowsCarryAnAlignedCopyOfTheirBytes) {
  // The AMX kernels load a q8_K row's bytes as tile rows from the copy after its blocks (gemm_impl.h): it starts on
  // a 64-byte boundary, rows are whole lines, and it holds every block's qs in order.
  using namespace detail;
  for (int64_t n : {int64_t{256}, int64_t{4096}, int64_t{14336}}) {
    EXPECT_EQ(q8_K_tile_offset(n) % 64, 0u) << n;
    EXPECT_GE(q8_K_tile_offset(n), static_cast<size_t>(n / QK_K) * sizeof(block_q8_K)) << n;
    EXPECT_EQ(act_row_bytes(ActFormat::q8_K, n) % 64, 0u) << n;
    const auto x = test::random_floats(static_cast<size_t>(n), 5);
    for (Isa isa : test::available_isas()) {
      std::vector<uint8_t> row(act_row_bytes(ActFormat::q8_K, n), 0xaa);
      act_quantizer(kernels_for(isa), ActFormat::q8_K)(x.data(), row.data(), n);
      const auto* blocks = reinterpret_cast<const block_q8_K*>(row.data());
      for (int64_t i = 0; i < n / QK_K; ++i)
        ASSERT_EQ(std::memcmp(row.data() + q8_K_tile_offset(n) + i * QK_K, blocks[i].qs, QK_K), 0)
            << isa_name(isa) << " n=" << n << " block " << i;
    }
  }
}

TEST(Isa, ActivationQuantizersAreBitIdenticalAcrossIsas) {
  using namespace detail;
  // Includes exact ties (x * id landing on .5), zero blocks and (q8_32) a partial last group of 8 blocks.
  auto x = test::random_floats(4192, 3);
  for (int i = 0; i < 32; ++i) x[i] = 0;
  for (int i = 32; i < 64; ++i) x[i] = (i - 48) * 0.5f;
  for (ActFormat f : {ActFormat::q8_32, ActFormat::q8_1, ActFormat::q8_K}) {
    const int64_t n = f == ActFormat::q8_K ? 4096 : 4192;
    std::vector<uint8_t> ref(act_row_bytes(f, n), 0x55);
    const QuantizeActFn ref_fn = f == ActFormat::q8_32 ? quantize_act_q8_32_ref
                                 : f == ActFormat::q8_1 ? quantize_act_q8_1_ref
                                                        : quantize_act_q8_K_ref;
    ref_fn(x.data(), ref.data(), n);
    for (Isa isa : test::available_isas()) {
      const IsaKernels& k = kernels_for(isa);
      std::vector<uint8_t> got(ref.size(), 0xaa);
      act_quantizer(k, f)(x.data(), got.data(), n);
      EXPECT_EQ(got, ref) << isa_name(isa) << " format " << static_cast<int>(f);
    }
  }
}

TEST(Isa, SetIsaRejectsUnavailable) {
  test::IsaGuard guard;
  // x86 builds have no NEON, aarch64 builds no AVX (and ARMv8.0 CPUs no dotprod).
  for (Isa isa : kAllIsas)
    if (!isa_available(isa)) {
      EXPECT_THROW(set_isa(isa), Error) << isa_name(isa);
    }
  set_isa(Isa::scalar);
  EXPECT_EQ(active_isa(), Isa::scalar);
}

}  // namespace
}  // namespace prima::kernels
