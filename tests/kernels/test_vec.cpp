// vec.h on every available ISA: bit-identical to the scalar reference (the canonical order of vec.h) and close to
// a double-precision product, for lengths around the vector widths and the 16 lanes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "kernels/ops.h"
#include "kernels/vec.h"
#include "test_util.h"

namespace prima::kernels {
namespace {

std::vector<fp16_t> to_f16(const std::vector<float>& x) {
  std::vector<fp16_t> h(x.size());
  for (size_t i = 0; i < x.size(); ++i) h[i] = f32_to_fp16(x[i]);
  return h;
}

TEST(Vec, ConversionsMatchReferenceExactly) {
  test::IsaGuard guard;
  auto x = test::random_floats(300, 1, 10.0f);
  x[3] = 1e-6f;      // f16 subnormal
  x[4] = 70000.0f;   // overflows to inf
  x[5] = -0.0f;
  x[6] = 2049.0f;    // a tie: rounds to even (2048)
  for (Isa isa : test::available_isas()) {
    set_isa(isa);
    for (int64_t n : {0, 1, 7, 8, 15, 16, 17, 33, 300}) {
      std::vector<fp16_t> h(n + 1, 0x1234);
      f32_to_f16_row(x.data(), h.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(h[i], f32_to_fp16(x[i])) << isa_name(isa) << " n=" << n << " i=" << i;
      ASSERT_EQ(h[n], 0x1234);  // nothing written past n
      std::vector<float> back(n + 1, 42.0f);
      f16_to_f32_row(h.data(), back.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(back[i], fp16_to_f32(h[i])) << isa_name(isa) << " i=" << i;
      ASSERT_EQ(back[n], 42.0f);
      std::vector<float> r(x.begin(), x.begin() + n), want(n);
      r.push_back(42.0f);
      round_to_f16(r.data(), n);
      for (int64_t i = 0; i < n; ++i) want[i] = fp16_to_f32(f32_to_fp16(x[i]));
      ASSERT_TRUE(test::same_bits(r.data(), want.data(), n, std::string(isa_name(isa)) + " round_to_f16"));
      ASSERT_EQ(r[n], 42.0f);  // nothing written past n
    }
  }
}

TEST(Vec, DotAndAxpyMatchReference) {
  test::IsaGuard guard;
  const auto a = to_f16(test::random_floats(40 * 136, 2));
  const auto x = test::random_floats(136, 3);
  const auto alpha = test::random_floats(40, 4);
  for (int64_t n : {1, 5, 8, 16, 31, 64, 100, 128, 136}) {
    for (int64_t n_rows : {1, 3, 4, 9, 40}) {
      const size_t stride = 136;
      // double-precision references
      std::vector<double> dot_ref(n_rows), axpy_ref(n, 0.5);
      for (int64_t r = 0; r < n_rows; ++r)
        for (int64_t i = 0; i < n; ++i) {
          dot_ref[r] += double(fp16_to_f32(a[r * stride + i])) * x[i];
          axpy_ref[i] += double(alpha[r]) * fp16_to_f32(a[r * stride + i]);
        }
      std::vector<float> dot_scalar, dot1_scalar, axpy_scalar, axpy1_scalar;  // from the first ISA: scalar
      for (Isa isa : test::available_isas()) {
        set_isa(isa);
        const std::string where = std::string(isa_name(isa)) + " n=" + std::to_string(n) + " n_rows=" + std::to_string(n_rows);
        std::vector<float> out(n_rows), out1(n_rows);
        dot_f16_rows(a.data(), stride, n_rows, x.data(), 1, n, out.data());
        for (int64_t r = 0; r < n_rows; ++r) {
          ASSERT_NEAR(out[r], dot_ref[r], 1e-5 * n + 1e-5) << where << " r=" << r;
          out1[r] = dot_f16_f32(a.data() + r * stride, x.data(), n);
        }
        ASSERT_TRUE(test::same_bits(out1, out, where + " dot_f16_f32 vs dot_f16_rows"));
        std::vector<float> y(n, 0.5f);
        axpy_f16_rows(a.data(), stride, n_rows, alpha.data(), 1, n, y.data());
        for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(y[i], axpy_ref[i], 1e-5 * n_rows + 1e-5) << where << " i=" << i;
        std::vector<float> y1(n, 0.5f);
        axpy_f16(alpha[0], a.data(), y1.data(), n);
        for (int64_t i = 0; i < n; ++i) ASSERT_NEAR(y1[i], 0.5 + double(alpha[0]) * fp16_to_f32(a[i]), 1e-6);
        if (dot_scalar.empty()) {
          dot_scalar = out, dot1_scalar = out1, axpy_scalar = y, axpy1_scalar = y1;
        } else {
          ASSERT_TRUE(test::same_bits(out, dot_scalar, where + " dot_f16_rows vs scalar"));
          ASSERT_TRUE(test::same_bits(out1, dot1_scalar, where + " dot_f16_f32 vs scalar"));
          ASSERT_TRUE(test::same_bits(y, axpy_scalar, where + " axpy_f16_rows vs scalar"));
          ASSERT_TRUE(test::same_bits(y1, axpy1_scalar, where + " axpy_f16 vs scalar"));
        }
      }
    }
  }
}

// Several vectors against the same rows (grouped-query attention): each vector's results are bit-identical to
// its own single-vector call, on every ISA, for vector counts around the x86 kernel's blocking (8 per pass).
TEST(Vec, SeveralVectorsMatchOneAtATime) {
  test::IsaGuard guard;
  const size_t stride = 136;
  const auto a = to_f16(test::random_floats(40 * stride, 5));
  const auto x = test::random_floats(9 * 136, 6);
  const auto alpha = test::random_floats(9 * 40, 7);
  for (Isa isa : test::available_isas()) {
    set_isa(isa);
    for (int64_t n : {5, 64, 128, 136}) {
      for (int64_t n_rows : {1, 3, 4, 9, 40}) {
        for (int64_t n_x : {2, 3, 4, 5, 7, 8, 9}) {
          const std::string where = std::string(isa_name(isa)) + " n=" + std::to_string(n) +
                                    " n_rows=" + std::to_string(n_rows) + " n_x=" + std::to_string(n_x);
          std::vector<float> xs(n_x * n), ws(n_x * n_rows);
          for (int64_t h = 0; h < n_x; ++h) {
            std::copy(x.begin() + h * 136, x.begin() + h * 136 + n, xs.begin() + h * n);
            std::copy(alpha.begin() + h * 40, alpha.begin() + h * 40 + n_rows, ws.begin() + h * n_rows);
          }
          std::vector<float> out(n_x * n_rows + 1, 42.0f), one(n_x * n_rows);
          dot_f16_rows(a.data(), stride, n_rows, xs.data(), n_x, n, out.data());
          for (int64_t h = 0; h < n_x; ++h) dot_f16_rows(a.data(), stride, n_rows, xs.data() + h * n, 1, n, one.data() + h * n_rows);
          ASSERT_TRUE(test::same_bits(out.data(), one.data(), one.size(), where + " dot"));
          ASSERT_EQ(out.back(), 42.0f) << where;  // nothing written past n_x * n_rows
          std::vector<float> y(n_x * n + 1, 0.25f), y1(n_x * n, 0.25f);
          axpy_f16_rows(a.data(), stride, n_rows, ws.data(), n_x, n, y.data());
          for (int64_t h = 0; h < n_x; ++h)
            axpy_f16_rows(a.data(), stride, n_rows, ws.data() + h * n_rows, 1, n, y1.data() + h * n);
          ASSERT_TRUE(test::same_bits(y.data(), y1.data(), y1.size(), where + " axpy"));
          ASSERT_EQ(y.back(), 0.25f) << where;
        }
      }
    }
  }
}

// ulps between a float and the exact value (in double), measured in the float's own ulp.
double ulps(float got, double want) {
  const auto w = static_cast<float>(std::fabs(want));
  const double ulp = std::nextafter(w, INFINITY) - w;
  return std::fabs(static_cast<double>(got) - want) / ulp;
}

TEST(Vec, ExpIsWithinTwoUlpAndTheSameOnEveryIsa) {
  test::IsaGuard guard;
  std::vector<float> x;
  for (float v = -90.0f; v <= 90.0f; v += 0.0137f) x.push_back(v);
  for (float v : {0.0f, -0.0f, 1.0f, -1.0f, 0.34657f, -0.34657f, 88.0f, 88.0001f, -87.33654f, -87.3366f, 1e-8f,
                  -1e-8f, INFINITY, -INFINITY, NAN})
    x.push_back(v);
  std::vector<float> first;
  for (Isa isa : test::available_isas()) {
    set_isa(isa);
    for (size_t n : {x.size(), size_t{1}, size_t{7}, size_t{17}}) {  // vector bodies and scalar tails
      std::vector<float> y(n + 1, 42.0f);
      exp_row(x.data() + x.size() - n, y.data(), static_cast<int64_t>(n));
      ASSERT_EQ(y[n], 42.0f) << isa_name(isa);
      if (n != x.size()) {
        ASSERT_TRUE(test::same_bits(y.data(), first.data() + x.size() - n, n, std::string(isa_name(isa)) + " tail"));
        continue;
      }
      y.pop_back();
      if (first.empty()) first = y;
      ASSERT_TRUE(test::same_bits(y, first, std::string(isa_name(isa)) + " exp_row"));
      double worst = 0;
      for (size_t i = 0; i < n; ++i) {
        const float v = x[i];
        if (std::isnan(v)) {
          ASSERT_TRUE(std::isnan(y[i]));
        } else if (v > 88.0f) {
          ASSERT_EQ(y[i], INFINITY) << v;
        } else if (v < -87.33654f) {
          ASSERT_EQ(y[i], 0.0f) << v;
        } else if (v >= -87.0f) {
          worst = std::max(worst, ulps(y[i], std::exp(static_cast<double>(v))));
        }
      }
      EXPECT_LE(worst, 2.0) << isa_name(isa);
    }
  }
}

TEST(Vec, SoftmaxAndSiluMatchTheReferenceOnEveryIsa) {
  test::IsaGuard guard;
  for (int64_t n : {1, 3, 15, 16, 17, 40, 100, 1000, 1031}) {
    const auto x = test::random_floats(static_cast<size_t>(n), 8, 12.0f);
    const auto u = test::random_floats(static_cast<size_t>(n), 9, 2.0f);
    const float scale = 0.088388f;
    // double-precision softmax(scale * x) and silu(x) * u
    double m = -INFINITY, sum = 0;
    for (float v : x) m = std::max(m, double(v * scale));
    for (float v : x) sum += std::exp(double(v * scale) - m);
    std::vector<float> sm_first, silu_first;
    for (Isa isa : test::available_isas()) {
      set_isa(isa);
      const std::string where = std::string(isa_name(isa)) + " n=" + std::to_string(n);
      std::vector<float> sm(x);
      sm.push_back(42.0f);
      softmax(sm.data(), n, scale);
      ASSERT_EQ(sm.back(), 42.0f) << where;
      sm.pop_back();
      double total = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double want = std::exp(double(x[i] * scale) - m) / sum;
        ASSERT_NEAR(sm[i], want, 1e-6 * want + 1e-12) << where << " i=" << i;
        total += sm[i];
      }
      ASSERT_NEAR(total, 1.0, 1e-5) << where;
      if (sm_first.empty()) sm_first = sm;
      ASSERT_TRUE(test::same_bits(sm, sm_first, where + " softmax"));

      std::vector<float> g(x);
      silu_mul(g.data(), u.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const double want = double(x[i]) / (1.0 + std::exp(-double(x[i]))) * u[i];
        ASSERT_NEAR(g[i], want, 1e-6 * std::fabs(want) + 1e-12) << where << " i=" << i;
      }
      if (silu_first.empty()) silu_first = g;
      ASSERT_TRUE(test::same_bits(g, silu_first, where + " silu_mul"));
    }
  }
  // The ends of e: far-negative gates give -0 or tiny values, never NaN; a softmax of one value is 1.
  for (Isa isa : test::available_isas()) {
    set_isa(isa);
    float g[4] = {-100.0f, 100.0f, 0.0f, -88.5f}, u[4] = {1, 1, 1, 1};
    silu_mul(g, u, 4);
    EXPECT_EQ(g[0], -0.0f) << isa_name(isa);
    EXPECT_EQ(g[1], 100.0f) << isa_name(isa);
    EXPECT_EQ(g[2], 0.0f) << isa_name(isa);
    EXPECT_FALSE(std::isnan(g[3])) << isa_name(isa);
    float one = -3.0f;
    softmax(&one, 1);
    EXPECT_EQ(one, 1.0f) << isa_name(isa);
  }
}

}  // namespace
}  // namespace prima::kernels
