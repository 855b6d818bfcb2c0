#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sampling/params.h"

using namespace prima;
using namespace prima::sampling;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// The validation error for params changed by `edit`, or "" when it validates.
template <class Edit>
std::string error_of(Edit edit, int32_t n_vocab = 1000) {
  SamplingParams p;
  edit(p);
  const Status s = p.validate(n_vocab);
  if (s) return "";
  EXPECT_EQ(s.code(), Status::Code::invalid);
  return s.message();
}

}  // namespace

TEST(SamplingParams, DefaultsAreLlamaCppCommonSampler) {
  const SamplingParams p;
  EXPECT_FLOAT_EQ(p.temperature, 0.8f);
  EXPECT_EQ(p.top_k, 40);
  EXPECT_FLOAT_EQ(p.top_p, 0.95f);
  EXPECT_FLOAT_EQ(p.min_p, 0.05f);
  EXPECT_FLOAT_EQ(p.repeat_penalty, 1.0f);
  EXPECT_EQ(p.repeat_last_n, 64);
  EXPECT_FLOAT_EQ(p.frequency_penalty, 0.0f);
  EXPECT_FLOAT_EQ(p.presence_penalty, 0.0f);
  EXPECT_FALSE(p.seed.has_value());
  EXPECT_TRUE(p.logit_bias.empty());
  EXPECT_TRUE(p.validate());
  EXPECT_TRUE(p.validate(152064));
  EXPECT_FALSE(p.penalties_active());
  EXPECT_EQ(SamplingParams::greedy().temperature, 0.0f);
}

TEST(SamplingParams, AcceptsTheEdgesOfEveryRange) {
  EXPECT_EQ(error_of([](SamplingParams& p) { p.temperature = 0.0f; }), "");
  EXPECT_EQ(error_of([](SamplingParams& p) { p.temperature = 1e6f; }), "");
  EXPECT_EQ(error_of([](SamplingParams& p) { p.top_k = 0; }), "");
  EXPECT_EQ(error_of([](SamplingParams& p) { p.top_k = 1 << 30; }), "");  // more than the vocab: no cut
  EXPECT_EQ(error_of([](SamplingParams& p) { p.top_p = 1.0f; }), "");
  EXPECT_EQ(error_of([](SamplingParams& p) { p.top_p = 1e-6f; }), "");
  EXPECT_EQ(error_of([](SamplingParams& p) { p.min_p = 0.0f; }), "");
  EXPECT_EQ(error_of([](SamplingParams& p) { p.min_p = 1.0f; }), "");
  EXPECT_EQ(error_of([](SamplingParams& p) { p.repeat_penalty = 0.5f; }), "");
  EXPECT_EQ(error_of([](SamplingParams& p) { p.repeat_last_n = -1; }), "");
  EXPECT_EQ(error_of([](SamplingParams& p) { p.repeat_last_n = 0; }), "");
  EXPECT_EQ(error_of([](SamplingParams& p) { p.frequency_penalty = -2.0f; }), "");
  EXPECT_EQ(error_of([](SamplingParams& p) { p.presence_penalty = 2.0f; }), "");
  EXPECT_EQ(error_of([](SamplingParams& p) { p.seed = 0; }), "");
  EXPECT_EQ(error_of([](SamplingParams& p) { p.logit_bias = {{0, -kInf}, {999, 100.0f}, {0, 1.0f}}; }), "");
}

TEST(SamplingParams, RejectsNonsenseNamingTheField) {
  struct Case {
    const char* field;
    void (*edit)(SamplingParams&);
  };
  const Case cases[] = {
      {"temperature", [](SamplingParams& p) { p.temperature = -0.1f; }},
      {"temperature", [](SamplingParams& p) { p.temperature = kNaN; }},
      {"temperature", [](SamplingParams& p) { p.temperature = kInf; }},
      {"top_k", [](SamplingParams& p) { p.top_k = -1; }},
      {"top_p", [](SamplingParams& p) { p.top_p = 0.0f; }},
      {"top_p", [](SamplingParams& p) { p.top_p = 1.5f; }},
      {"top_p", [](SamplingParams& p) { p.top_p = -0.5f; }},
      {"top_p", [](SamplingParams& p) { p.top_p = kNaN; }},
      {"min_p", [](SamplingParams& p) { p.min_p = -0.01f; }},
      {"min_p", [](SamplingParams& p) { p.min_p = 1.01f; }},
      {"min_p", [](SamplingParams& p) { p.min_p = kNaN; }},
      {"repeat_penalty", [](SamplingParams& p) { p.repeat_penalty = 0.0f; }},
      {"repeat_penalty", [](SamplingParams& p) { p.repeat_penalty = -1.0f; }},
      {"repeat_penalty", [](SamplingParams& p) { p.repeat_penalty = kNaN; }},
      {"repeat_penalty", [](SamplingParams& p) { p.repeat_penalty = kInf; }},
      {"repeat_last_n", [](SamplingParams& p) { p.repeat_last_n = -2; }},
      {"frequency_penalty", [](SamplingParams& p) { p.frequency_penalty = kNaN; }},
      {"frequency_penalty", [](SamplingParams& p) { p.frequency_penalty = 2.5f; }},
      {"frequency_penalty", [](SamplingParams& p) { p.frequency_penalty = -kInf; }},
      {"presence_penalty", [](SamplingParams& p) { p.presence_penalty = kNaN; }},
      {"presence_penalty", [](SamplingParams& p) { p.presence_penalty = -3.0f; }},
      {"logit_bias", [](SamplingParams& p) { p.logit_bias = {{-1, 1.0f}}; }},
      {"logit_bias", [](SamplingParams& p) { p.logit_bias = {{1000, 1.0f}}; }},  // n_vocab is 1000
      {"logit_bias", [](SamplingParams& p) { p.logit_bias = {{5, kNaN}}; }},
      {"logit_bias", [](SamplingParams& p) { p.logit_bias = {{5, kInf}}; }},
  };
  for (const Case& c : cases) {
    const std::string msg = error_of(c.edit);
    EXPECT_NE(msg.find(c.field), std::string::npos) << c.field << ": '" << msg << "'";
  }
}

TEST(SamplingParams, VocabularyChecks) {
  SamplingParams p;
  EXPECT_FALSE(p.validate(0));
  EXPECT_FALSE(p.validate(-5));
  p.logit_bias = {{70000, 1.0f}};
  EXPECT_TRUE(p.validate());  // without a vocabulary the id cannot be judged
  EXPECT_TRUE(p.validate(152064));
  EXPECT_FALSE(p.validate(32000));
}

TEST(SamplingParams, PenaltiesActive) {
  SamplingParams p;
  EXPECT_FALSE(p.penalties_active());
  p.repeat_penalty = 1.1f;
  EXPECT_TRUE(p.penalties_active());
  p.repeat_last_n = 0;
  EXPECT_FALSE(p.penalties_active());
  p = {};
  p.presence_penalty = 0.5f;
  EXPECT_TRUE(p.penalties_active());
  p = {};
  p.frequency_penalty = -0.5f;
  EXPECT_TRUE(p.penalties_active());
}

TEST(SamplingParams, Describe) {
  SamplingParams p;
  EXPECT_EQ(describe(p),
            "temp 0.80, top-k 40, top-p 0.95, min-p 0.05, repeat 1.00 over 64, freq 0.00, presence 0.00, "
            "seed random");
  p = SamplingParams::greedy();
  p.seed = 42;
  p.repeat_last_n = -1;
  p.logit_bias = {{1, 2.0f}};
  EXPECT_EQ(describe(p),
            "greedy, top-k 40, top-p 0.95, min-p 0.05, repeat 1.00 over all, freq 0.00, presence 0.00, seed 42, "
            "1 logit biases");
}
