// matmul over several matrices of one input (Q, K, V; gate, up) gives every output the bits of one matmul per
// matrix: mixed activation formats (K-quant, 32-block, f32 weights), decode and prefill, 1-3 threads, every
// instruction set available here.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include <fmt/format.h>

#include "kernels/matmul.h"
#include "kernels/quant.h"
#include "test_util.h"

namespace prima::kernels {
namespace {

struct Matrix {
  ggml_type type;
  int64_t n_out;
  std::vector<uint8_t> data;
  Matrix(ggml_type t, int64_t n_in, int64_t out, uint32_t seed) : type(t), n_out(out) {
    const size_t rb = row_size(t, n_in);
    const auto w = test::random_floats(static_cast<size_t>(n_in * out), seed, 0.05f);
    data.resize(rb * static_cast<size_t>(out));
    for (int64_t r = 0; r < out; ++r) quantize_row(t, w.data() + r * n_in, data.data() + r * rb, n_in);
  }
  WeightMatrix w(int64_t n_in) const { return {type, data.data(), n_in, n_out, row_size(type, n_in)}; }
};

TEST(MatmulGroup, EveryOutputKeepsTheBitsOfItsOwnMatmul) {
  constexpr int64_t n_in = 512;
  const Matrix mats[] = {{ggml_type::Q4_K, n_in, 200, 1}, {ggml_type::Q6_K, n_in, 72, 2},
                         {ggml_type::Q8_0, n_in, 37, 3}, {ggml_type::F16, n_in, 9, 4}};
  test::IsaGuard guard;
  for (int64_t n_tok : {1, 3, 70}) {
    const auto x = test::random_floats(static_cast<size_t>(n_tok * n_in), 11);
    for (int nth : {1, 2, 3}) {
      ThreadPool pool(nth);
      for (Isa isa : test::available_isas()) {
        set_isa(isa);
        std::vector<std::vector<float>> one(4), group(4);
        for (int m = 0; m < 4; ++m) {
          one[m].assign(static_cast<size_t>(n_tok * mats[m].n_out), NAN);
          group[m].assign(one[m].size(), NAN);
          matmul(pool, mats[m].w(n_in), x.data(), n_tok, one[m].data());
        }
        matmul(pool,
               {{mats[0].w(n_in), group[0].data()}, {mats[1].w(n_in), group[1].data()},
                {mats[2].w(n_in), group[2].data()}, {mats[3].w(n_in), group[3].data()}},
               x.data(), n_tok);
        for (int m = 0; m < 4; ++m) {
          const std::string where =
              fmt::format("{} n_tok={} threads={} {}", type_name(mats[m].type), n_tok, nth, isa_name(isa));
          ASSERT_TRUE(test::same_bits(group[m], one[m], where));
          for (float v : group[m]) ASSERT_FALSE(std::isnan(v)) << where;  // every output written
        }
        // A group of one, and a group whose matrices share one format (gate and up).
        std::vector<float> a(one[0].size(), NAN), b(one[0].size(), NAN);
        matmul(pool, {{mats[0].w(n_in), a.data()}, {mats[0].w(n_in), b.data()}}, x.data(), n_tok);
        ASSERT_TRUE(test::same_bits(a, one[0], "pair, first"));
        ASSERT_TRUE(test::same_bits(b, one[0], "pair, second"));
      }
    }
  }
}

}  // namespace
}  // namespace prima::kernels
