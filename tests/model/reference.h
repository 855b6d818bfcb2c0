// The llama.cpp reference logits in ../shared/fixtures/reference and the tolerances of fixtures/README.md.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace prima::test {

struct Reference {
  std::vector<int32_t> tokens;
  std::vector<int32_t> greedy_continuation;
  std::string greedy_text;
  int32_t n_vocab = 0;
  std::vector<float> logits;  // [n_tokens][n_vocab]

  const float* row(size_t i) const { return logits.data() + i * static_cast<size_t>(n_vocab); }
};

inline Reference load_reference(const std::string& model, const std::string& mode) {
  const std::string base = std::string(PRIMA_FIXTURES_DIR) + "/reference/" + model + "." + mode;
  std::ifstream js(base + ".json");
  const auto j = nlohmann::json::parse(js);
  Reference r;
  r.tokens = j.at("tokens").get<std::vector<int32_t>>();
  r.n_vocab = j.at("n_vocab").get<int32_t>();
  if (j.contains("greedy_continuation")) r.greedy_continuation = j["greedy_continuation"].get<std::vector<int32_t>>();
  if (j.contains("greedy_text")) r.greedy_text = j["greedy_text"].get<std::string>();
  std::ifstream bin(base + ".f32", std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(bin)), std::istreambuf_iterator<char>());
  r.logits.resize(bytes.size() / 4);
  std::memcpy(r.logits.data(), bytes.data(), r.logits.size() * 4);
  return r;
}

// Tolerance on relative RMS error by model type (fixtures/README.md).
inline double tolerance_for(const std::string& model) {
  if (model.ends_with("-F32")) return 1e-3;
  if (model.ends_with("-F16") || model.ends_with("-BF16")) return 1e-2;
  return 3e-2;
}

inline double rel_rms(const float* a, const float* r, int32_t n) {
  double num = 0, den = 0;
  for (int32_t i = 0; i < n; ++i) {
    num += (double(a[i]) - r[i]) * (double(a[i]) - r[i]);
    den += double(r[i]) * r[i];
  }
  return std::sqrt(num / n) / std::sqrt(den / n);
}

inline int32_t argmax(const float* x, int32_t n) {
  int32_t best = 0;
  for (int32_t i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

// True when the reference's top-1 leads its top-2 by more than 2 % of the row's range: then the top token
// must match.
inline bool decisive(const float* r, int32_t n) {
  float max = -INFINITY, second = -INFINITY, min = INFINITY;
  for (int32_t i = 0; i < n; ++i) {
    min = std::min(min, r[i]);
    if (r[i] > max) {
      second = max;
      max = r[i];
    } else if (r[i] > second) {
      second = r[i];
    }
  }
  return (max - second) > 0.02f * (max - min);
}

}  // namespace prima::test
