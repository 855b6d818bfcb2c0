// A batch of tokens as it flows through a layer window: which sequence each token belongs to and at which
// position. Tokens of several sequences may share one batch (the server batches concurrent requests).
#pragma once

#include <cstdint>
#include <vector>

namespace prima::model {

struct Batch {
  int32_t n_tokens = 0;
  const int32_t* pos = nullptr;  // [n_tokens]
  const int32_t* seq = nullptr;  // [n_tokens]
};

// Owning form, for building batches.
struct BatchBuf {
  std::vector<int32_t> pos, seq;
  Batch view() const { return {static_cast<int32_t>(pos.size()), pos.data(), seq.data()}; }
  void add(int32_t p, int32_t s) {
    pos.push_back(p);
    seq.push_back(s);
  }
  void clear() {
    pos.clear();
    seq.clear();
  }
};

}  // namespace prima::model
