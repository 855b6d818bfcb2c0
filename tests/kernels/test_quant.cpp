// quantize_row / dequantize_row: round trips, block validity, special values.
#include <gtest/gtest.h>

#include <cstring>

#include "kernels/quant.h"
#include "tensor/blocks.h"
#include "test_util.h"

namespace prima::kernels {
namespace {

using test::random_floats;
using test::rel_rms;

class PerType : public ::testing::TestWithParam<ggml_type> {};

std::string type_param_name(const ::testing::TestParamInfo<ggml_type>& info) {
  return std::string(type_name(info.param));
}

TEST_P(PerType, RoundTripErrorIsBounded) {
  const ggml_type t = GetParam();
  const int64_t n = 4096;
  const auto x = random_floats(n, 7);
  std::vector<uint8_t> q(row_size(t, n));
  std::vector<float> y(n);
  quantize_row(t, x.data(), q.data(), n);
  dequantize_row(t, q.data(), y.data(), n);
  const double err = rel_rms(y.data(), x.data(), n);
  EXPECT_LE(err, test::roundtrip_bound(t)) << type_name(t);
  if (t != ggml_type::F32) {
    EXPECT_GT(err, 0.0);
  }
  RecordProperty("rel_rms", std::to_string(err));
}

TEST_P(PerType, ZerosAndConstantsSurvive) {
  const ggml_type t = GetParam();
  const int64_t n = 512;
  std::vector<uint8_t> q(row_size(t, n));
  std::vector<float> y(n, 1.0f), x(n, 0.0f);
  quantize_row(t, x.data(), q.data(), n);
  dequantize_row(t, q.data(), y.data(), n);
  for (float v : y) ASSERT_EQ(v, 0.0f) << type_name(t);
  // A constant row (all positive): every value comes back close.
  std::fill(x.begin(), x.end(), 0.75f);
  quantize_row(t, x.data(), q.data(), n);
  dequantize_row(t, q.data(), y.data(), n);
  for (float v : y) ASSERT_NEAR(v, 0.75f, 0.75f * 0.1f) << type_name(t);
}

TEST_P(PerType, ScaledInputScalesOutput) {
  // Large and tiny magnitudes (scales stored as f16 must neither overflow nor flush).
  const ggml_type t = GetParam();
  const int64_t n = 1024;
  for (float scale : {1e-3f, 50.0f}) {
    const auto x = random_floats(n, 11, scale);
    std::vector<uint8_t> q(row_size(t, n));
    std::vector<float> y(n);
    quantize_row(t, x.data(), q.data(), n);
    dequantize_row(t, q.data(), y.data(), n);
    EXPECT_LE(rel_rms(y.data(), x.data(), n), test::roundtrip_bound(t) * 1.2 + 1e-6) << type_name(t) << " " << scale;
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, PerType, ::testing::ValuesIn(kSupportedTypes), type_param_name);

TEST(Dequantize, KnownQ4_0Block) {
  // d = 0.5, nibbles 0..15 then 15..0: values d * (q - 8).
  uint8_t blk[18];
  const fp16_t d = f32_to_fp16(0.5f);
  std::memcpy(blk, &d, 2);
  for (int j = 0; j < 16; ++j) blk[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  float y[32];
  dequantize_row(ggml_type::Q4_0, blk, y, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.5f * (j - 8));
    EXPECT_EQ(y[j + 16], 0.5f * (15 - j - 8));
  }
}

TEST(Dequantize, KnownQ8_0AndIQ4NL) {
  uint8_t blk[34];
  const fp16_t d = f32_to_fp16(0.25f);
  std::memcpy(blk, &d, 2);
  for (int j = 0; j < 32; ++j) blk[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(j * 8 - 128));
  float y[32];
  dequantize_row(ggml_type::Q8_0, blk, y, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], 0.25f * (j * 8 - 128));
  for (int j = 0; j < 16; ++j) blk[2 + j] = static_cast<uint8_t>(j | ((15 - j) << 4));
  dequantize_row(ggml_type::IQ4_NL, blk, y, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(y[j], 0.25f * kvalues_iq4nl[j]);
    EXPECT_EQ(y[j + 16], 0.25f * kvalues_iq4nl[15 - j]);
  }
}

}  // namespace
}  // namespace prima::kernels
