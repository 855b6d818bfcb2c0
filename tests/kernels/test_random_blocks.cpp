// Weights as arbitrary bit patterns (only the f16 scales made sane): values our reference quantizer never
// produces — Q8_0 -128, Q6_K scale -128, every Q3_K / IQ4_NL code, any min — must still give the exact
// product on every ISA, bit-identical to the scalar kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>

#include <fmt/format.h>

#include "kernels/gemm_impl.h"
#include "kernels/matmul.h"
#include "kernels/quant.h"
#include "tensor/blocks.h"
#include "test_util.h"

namespace prima::kernels {
namespace {

struct ScaleFields {
  size_t offsets[2];
  int count;
};

ScaleFields scale_fields(ggml_type t) {
  switch (t) {
    case ggml_type::Q4_0: return {{offsetof(block_q4_0, d)}, 1};
    case ggml_type::Q4_1: return {{offsetof(block_q4_1, d), offsetof(block_q4_1, m)}, 2};
    case ggml_type::Q5_0: return {{offsetof(block_q5_0, d)}, 1};
    case ggml_type::Q5_1: return {{offsetof(block_q5_1, d), offsetof(block_q5_1, m)}, 2};
    case ggml_type::Q8_0: return {{offsetof(block_q8_0, d)}, 1};
    case ggml_type::IQ4_NL: return {{offsetof(block_iq4_nl, d)}, 1};
    case ggml_type::Q2_K: return {{offsetof(block_q2_K, d), offsetof(block_q2_K, dmin)}, 2};
    case ggml_type::Q3_K: return {{offsetof(block_q3_K, d)}, 1};
    case ggml_type::Q4_K: return {{offsetof(block_q4_K, d), offsetof(block_q4_K, dmin)}, 2};
    case ggml_type::Q5_K: return {{offsetof(block_q5_K, d), offsetof(block_q5_K, dmin)}, 2};
    case ggml_type::Q6_K: return {{offsetof(block_q6_K, d)}, 1};
    default: return {{0, 0}, 0};
  }
}

class RandomBlocks : public ::testing::TestWithParam<ggml_type> {};

TEST_P(RandomBlocks, ExactOnEveryIsa) {
  const ggml_type t = GetParam();
  const auto& tr = traits(t);
  const int64_t n_in = 1024, n_out = 37;
  const size_t rb = row_size(t, n_in);
  std::mt19937 rng(1234);
  std::vector<uint8_t> w(rb * n_out);
  for (auto& b : w) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> scale(-0.02f, 0.02f);
  const ScaleFields f = scale_fields(t);
  for (size_t blk = 0; blk < w.size() / tr.type_size; ++blk)
    for (int k = 0; k < f.count; ++k) {
      const fp16_t h = f32_to_fp16(scale(rng));
      std::memcpy(w.data() + blk * tr.type_size + f.offsets[k], &h, 2);
    }
  std::vector<float> wd(n_out * n_in);
  for (int64_t r = 0; r < n_out; ++r) dequantize_row(t, w.data() + r * rb, wd.data() + r * n_in, n_in);
  for (float v : wd) ASSERT_TRUE(std::isfinite(v));

  test::IsaGuard guard;
  ThreadPool pool(2);
  for (const int64_t n_tok : {1, 5}) {  // the decode and the prefill kernels
    // x and what the kernels see of it
    const auto x = test::random_floats(n_tok * n_in, 99);
    const auto xq = test::act_roundtrip(t, x, n_in);
    std::vector<float> y_scalar;
    for (Isa isa : test::available_isas()) {
      set_isa(isa);
      const std::string where = fmt::format("{} {} n_tok={}", type_name(t), isa_name(isa), n_tok);
      std::vector<float> y(n_tok * n_out, NAN);
      matmul(pool, {t, w.data(), n_in, n_out, rb}, x.data(), n_tok, y.data());
      if (y_scalar.empty()) y_scalar = y;
      ASSERT_TRUE(test::same_bits(y, y_scalar, where + " vs scalar"));
      for (int64_t c = 0; c < n_tok; ++c)
        for (int64_t r = 0; r < n_out; ++r) {
          double e = 0, s = 0;
          for (int64_t i = 0; i < n_in; ++i) {
            e += double(wd[r * n_in + i]) * xq[c * n_in + i];
            s += std::fabs(double(wd[r * n_in + i]) * xq[c * n_in + i]);
          }
          ASSERT_NEAR(y[c * n_out + r], e, 2e-5 * s + 1e-6) << where << " r=" << r;
        }
    }
  }
}

const ggml_type kQuantized[] = {ggml_type::Q4_0, ggml_type::Q4_1, ggml_type::Q5_0, ggml_type::Q5_1,
                                ggml_type::Q8_0, ggml_type::IQ4_NL, ggml_type::Q2_K, ggml_type::Q3_K,
                                ggml_type::Q4_K, ggml_type::Q5_K, ggml_type::Q6_K};

INSTANTIATE_TEST_SUITE_P(Kernels, RandomBlocks, ::testing::ValuesIn(kQuantized),
                         [](const ::testing::TestParamInfo<ggml_type>& p) { return std::string(type_name(p.param)); });

}  // namespace
}  // namespace prima::kernels
