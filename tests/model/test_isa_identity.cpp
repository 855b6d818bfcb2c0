// The logits of a model are the same floats, bit for bit, on every instruction set this CPU has (scalar, AVX2,
// AVX-512) and for any thread count: all kernels follow one canonical order of float operations
// (kernels/gemm_impl.h, kernels/vec.h), so devices of a heterogeneous ring compute exactly what one would.
// Fixture models covering the 32-blocks with offsets and mins, the K-quant mixes, float weights and attention
// over the F16 cache; prefill (batch) and decode (seq) paths.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kernels/isa.h"
#include "model/model.h"
#include "reference.h"
#include "runtime/local_engine.h"

using namespace prima;

namespace {

// Logits of every position of the fixture's reference tokens: one batch, or one token at a time.
std::vector<float> run_logits(const model::Model& model, const std::vector<int32_t>& tokens, bool batch, int n_threads) {
  runtime::LocalOptions lo;
  lo.n_threads = n_threads;
  lo.n_ctx = 128;
  runtime::LocalEngine engine(model, lo);
  const size_t n_vocab = static_cast<size_t>(model.hparams().n_vocab);
  std::vector<float> all, logits;
  runtime::TokenBatch b;
  if (batch) {
    for (size_t i = 0; i < tokens.size(); ++i) b.add(tokens[i], static_cast<int32_t>(i), 0, true);
    EXPECT_TRUE(engine.decode(b, logits).is_ok());
    return logits;
  }
  for (size_t i = 0; i < tokens.size(); ++i) {
    b.clear();
    b.add(tokens[i], static_cast<int32_t>(i), 0, true);
    EXPECT_TRUE(engine.decode(b, logits).is_ok());
    EXPECT_EQ(logits.size(), n_vocab);
    all.insert(all.end(), logits.begin(), logits.end());
  }
  return all;
}

// Index of the first float whose bits differ, or -1.
int64_t first_difference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 0;
  for (size_t i = 0; i < a.size(); ++i) {
    uint32_t ua, ub;
    std::memcpy(&ua, &a[i], 4);
    std::memcpy(&ub, &b[i], 4);
    if (ua != ub) return static_cast<int64_t>(i);
  }
  return -1;
}

class IsaIdentity : public ::testing::TestWithParam<std::string> {};

TEST_P(IsaIdentity, LogitsBitIdenticalOnEveryIsaAndThreadCount) {
  const std::string& name = GetParam();
  const kernels::Isa saved = kernels::active_isa();
  struct Restore {
    kernels::Isa isa;
    ~Restore() { kernels::set_isa(isa); }
  } restore{saved};
  auto model = model::Model::open(std::string(PRIMA_FIXTURES_DIR) + "/models/" + name + ".gguf");
  const auto ref = test::load_reference(name, "batch");
  int n_isas = 0;
  for (bool batch : {true, false}) {
    kernels::set_isa(kernels::Isa::scalar);
    const std::vector<float> want = run_logits(*model, ref.tokens, batch, 1);
    ASSERT_EQ(want.size(), ref.tokens.size() * static_cast<size_t>(ref.n_vocab));
    n_isas = 0;
    for (kernels::Isa isa : kernels::kAllIsas) {
      if (!kernels::isa_available(isa)) continue;
      ++n_isas;
      kernels::set_isa(isa);
      for (int n_threads : {1, 2, 3}) {
        if (isa == kernels::Isa::scalar && n_threads == 1) continue;
        const std::vector<float> got = run_logits(*model, ref.tokens, batch, n_threads);
        const int64_t at = first_difference(got, want);
        EXPECT_EQ(at, -1) << name << (batch ? " batch" : " seq") << " isa=" << kernels::isa_name(isa)
                          << " threads=" << n_threads << ": first different logit at row " << at / ref.n_vocab
                          << ", token " << at % ref.n_vocab;
      }
    }
  }
  RecordProperty("isas_compared", n_isas);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, IsaIdentity,
                         ::testing::Values("tiny-llama-gqa-Q4_K_M", "tiny-llama-gqa-F16", "tiny-qwen2-Q8_0",
                                           "tiny-qwen2-Q5_1", "stories260K-Q4_0"),
                         [](const auto& p) {
                           std::string s = p.param;
                           for (auto& c : s)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

}  // namespace
