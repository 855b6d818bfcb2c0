// All layers on this device: embed -> forward(window) for each of its k windows -> output, in micro-batches of
// n_ubatch. With --layer-window w the layers run as k = n_layer / w windows, so a model larger than this
// device's memory streams: each window is read (and the next prefetched) while the others are computed.
#pragma once

#include <memory>

#include "kernels/thread_pool.h"
#include "model/model.h"
#include "runtime/device_windows.h"
#include "runtime/engine.h"

namespace prima::runtime {

struct LocalOptions {
  int32_t n_ctx = 0;       // 0: the model's training context, capped at 4096
  int32_t n_seq = 1;
  int32_t n_ubatch = 512;  // tokens per forward pass
  int32_t n_threads = 0;   // 0: hardware threads
  int32_t window = 0;      // layers per window (0: all in one)
  ggml_type kv_type = ggml_type::F16;
  MemoryOptions memory;
};

class LocalEngine final : public Engine {
 public:
  LocalEngine(const model::Model& model, LocalOptions opt);

  const model::HParams& hparams() const override { return model_.hparams(); }
  int32_t n_ctx() const override { return opt_.n_ctx; }
  int32_t n_seq() const override { return opt_.n_seq; }
  Status decode(const TokenBatch& batch, std::vector<float>& logits) override;
  Status kv_clear(int32_t seq) override;
  Status kv_truncate(int32_t seq, int32_t n_keep) override;
  Status kv_copy(int32_t src, int32_t dst) override;
  int32_t seq_len(int32_t seq) const override { return windows_->seq_len(seq); }
  EngineTimings timings() const override { return timings_; }
  std::vector<DeviceStatus> devices() const override;
  std::string describe() const override;
  std::string summary() override;

  kernels::ThreadPool& pool() { return windows_->pool(); }

 private:
  Status check_seq(int32_t seq) const;

  const model::Model& model_;
  LocalOptions opt_;
  RingPlan plan_;
  std::unique_ptr<DeviceWindows> windows_;
  std::vector<float> x_;        // [n_ubatch][n_embd]
  std::vector<float> x_out_;    // [n_outputs][n_embd]
  std::vector<float> scratch_;  // output norm
  EngineTimings timings_;
  double last_step_ms_ = 0, last_pagein_ms_ = 0;
  uint64_t read_bytes_at_start_ = 0;
};

// Resolves the per-sequence context: 0 -> min(model's training context, 4096); checks bounds.
int32_t resolve_n_ctx(const model::HParams& hp, int32_t requested);
int resolve_threads(int requested);
// The head's own ranges besides its windows: the embedding (read row by row) and the output layer.
HeadRanges head_ranges(const model::Model& model);

}  // namespace prima::runtime
