// A layer window: layers [il_begin, il_end) of the model with their weights and their slice of the KV cache.
// forward() turns the hidden states of a batch into the hidden states after the window; it knows nothing of
// sockets or of which device it runs on, so any device can run any subset of layers.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/error.h"
#include "kernels/thread_pool.h"
#include "model/batch.h"
#include "model/kv_cache.h"
#include "model/model.h"

namespace prima::model {

// Activation buffers of a forward pass, shared by the windows of a device (they run one after another) and
// grown only when a larger batch arrives.
class Workspace {
 public:
  void reserve(const HParams& hp, int32_t n_tokens);
  int32_t n_tokens() const { return n_tokens_; }

  std::vector<float> xn;     // [n_tokens][n_embd]     normalised input of a block
  std::vector<float> q;      // [n_tokens][n_head][n_embd_head]
  std::vector<float> k, v;   // [n_tokens][n_head_kv][n_embd_head]
  std::vector<float> att;    // [n_tokens][n_head][n_embd_head]
  std::vector<float> tmp;    // [n_tokens][n_embd]     block output before the residual add
  std::vector<float> gate;   // [n_tokens][n_ff]
  std::vector<float> up;     // [n_tokens][n_ff]
  std::vector<float> cos, sin;  // [n_tokens][n_rot / 2]
  std::vector<float> scores;    // attention scratch, per thread

 private:
  int32_t n_tokens_ = 0;
};

// Called round each layer of Window::forward (j: the layer's index within the window), so that a device can page
// weights in, and drop them, one layer at a time.
class LayerHook {
 public:
  virtual ~LayerHook() = default;
  virtual void before_layer(int32_t j) = 0;
  virtual void after_layer(int32_t j) = 0;
};

class Window {
 public:
  Window(const Model& model, int32_t il_begin, int32_t il_end, KvConfig kv);

  int32_t il_begin() const { return il_begin_; }
  int32_t il_end() const { return il_end_; }
  int32_t n_layers() const { return il_end_ - il_begin_; }
  KvCache& kv() { return kv_; }
  const KvCache& kv() const { return kv_; }

  // x: [n_tokens][n_embd], hidden states in, hidden states out.
  // Fails (without touching the cache) when a position is outside the context or leaves a gap.
  // hook (optional): called before and after every layer.
  Status forward(kernels::ThreadPool& pool, Workspace& ws, const Batch& batch, float* x, LayerHook* hook = nullptr);

  // The bytes of this window's weights in the model file (for prefetch / release) and their total.
  const std::vector<FileRange>& ranges() const { return ranges_; }
  uint64_t n_bytes() const { return n_bytes_; }

 private:
  void layer(kernels::ThreadPool& pool, Workspace& ws, const LayerWeights& w, const Batch& batch, float* x);

  const Model& model_;
  const HParams& hp_;
  int32_t il_begin_, il_end_;
  std::vector<const LayerWeights*> layers_;
  KvCache kv_;
  std::vector<FileRange> ranges_;
  uint64_t n_bytes_ = 0;
};

}  // namespace prima::model
