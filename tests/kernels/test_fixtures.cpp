// Real data: the tiny-llama-gqa-<TYPE> fixtures are one set of random weights saved in every type (checked
// here), so dequantizing each quantized tensor must land close to the F32 file's tensor. A block layout
// mistake shows up as an error of order 1.
#include <gtest/gtest.h>

#include <map>

#include "gguf/gguf.h"
#include "kernels/quant.h"
#include "test_util.h"

namespace prima::kernels {
namespace {

std::string model_path(const std::string& type) {
  return std::string(PRIMA_FIXTURES_DIR) + "/models/tiny-llama-gqa-" + type + ".gguf";
}

std::vector<float> dequantize_tensor(const gguf::TensorInfo& t) {
  std::vector<float> v(static_cast<size_t>(t.n_elements()));
  for (int64_t r = 0; r < t.n_rows(); ++r)
    dequantize_row(t.type, t.data + r * t.row_bytes(), v.data() + r * t.ne[0], t.ne[0]);
  return v;
}

// Quantization error of llama.cpp's quantizers on these N(0, s) weights, with margin.
double fixture_bound(ggml_type t) { return test::roundtrip_bound(t); }

TEST(Fixtures, EveryTypeDequantizesCloseToF32) {
  const auto ref_file = gguf::File::open(model_path("F32"));
  std::map<ggml_type, int> seen;
  for (const char* file_type : {"F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "Q2_K", "Q3_K_M",
                                "Q4_K_M", "Q5_K_M", "Q6_K"}) {
    const auto f = gguf::File::open(model_path(file_type));
    for (const auto& t : f.tensors()) {
      if (t.n_dims != 2) continue;
      const auto& r = ref_file.tensor(t.name);
      ASSERT_EQ(r.type, ggml_type::F32) << t.name;
      ASSERT_EQ(r.n_elements(), t.n_elements()) << t.name;
      const auto got = dequantize_tensor(t);
      const auto* want = reinterpret_cast<const float*>(r.data);
      const double err = test::rel_rms(got.data(), want, got.size());
      EXPECT_LE(err, fixture_bound(t.type)) << file_type << " " << t.name << " (" << type_name(t.type) << ")";
      ++seen[t.type];
    }
  }
  for (ggml_type t : kSupportedTypes) {
    if (t != ggml_type::F32) {
      EXPECT_GT(seen[t], 0) << "no fixture tensor of type " << type_name(t);
    }
  }
}

}  // namespace
}  // namespace prima::kernels
