// Every fixture model reproduces llama.cpp's logits, on the prefill (batch) path and the decode (seq) path,
// within the tolerances of fixtures/README.md, and picks the same top token wherever the reference is decisive.
#include <gtest/gtest.h>

#include <filesystem>

#include "model/model.h"
#include "reference.h"
#include "runtime/local_engine.h"

using namespace prima;

namespace {

std::vector<std::string> fixture_models() {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(std::string(PRIMA_FIXTURES_DIR) + "/models"))
    if (e.path().extension() == ".gguf") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

class ReferenceLogits : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(ReferenceLogits, MatchLlamaCpp) {
  const auto& [name, mode] = GetParam();
  const auto ref = test::load_reference(name, mode);
  auto model = model::Model::open(std::string(PRIMA_FIXTURES_DIR) + "/models/" + name + ".gguf");
  ASSERT_EQ(model->hparams().n_vocab, ref.n_vocab);
  runtime::LocalOptions lo;
  lo.n_threads = 2;
  lo.n_ctx = 128;
  runtime::LocalEngine engine(*model, lo);

  const size_t n = ref.tokens.size(), n_vocab = static_cast<size_t>(ref.n_vocab);
  std::vector<float> got(n * n_vocab), logits;
  runtime::TokenBatch batch;
  if (mode == "batch") {
    for (size_t i = 0; i < n; ++i) batch.add(ref.tokens[i], static_cast<int32_t>(i), 0, true);
    ASSERT_TRUE(engine.decode(batch, logits).is_ok());
    got = logits;
  } else {
    for (size_t i = 0; i < n; ++i) {
      batch.clear();
      batch.add(ref.tokens[i], static_cast<int32_t>(i), 0, true);
      ASSERT_TRUE(engine.decode(batch, logits).is_ok());
      std::copy(logits.begin(), logits.end(), got.begin() + static_cast<long>(i * n_vocab));
    }
  }
  const double tol = test::tolerance_for(name);
  double worst = 0;
  for (size_t i = 0; i < n; ++i) {
    const float* a = got.data() + i * n_vocab;
    const double err = test::rel_rms(a, ref.row(i), ref.n_vocab);
    worst = std::max(worst, err);
    EXPECT_LE(err, tol) << name << "." << mode << " row " << i;
    if (test::decisive(ref.row(i), ref.n_vocab)) {
      EXPECT_EQ(test::argmax(a, ref.n_vocab), test::argmax(ref.row(i), ref.n_vocab)) << name << "." << mode << " row " << i;
    }
  }
  RecordProperty("worst_rel_rms", std::to_string(worst));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ReferenceLogits,
                         ::testing::Combine(::testing::ValuesIn(fixture_models()), ::testing::Values("batch", "seq")),
                         [](const auto& p) {
                           std::string s = std::get<0>(p.param) + "_" + std::get<1>(p.param);
                           for (auto& c : s)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

}  // namespace
