// The layer windows one device computes — one per cycle — with the buffers and thread pool they share, and the
// KV-cache operations the head orders. Head and workers both run their share of a ring through this class.
#pragma once

#include <memory>
#include <vector>

#include "core/error.h"
#include "kernels/thread_pool.h"
#include "model/kv_cache.h"
#include "model/model.h"
#include "model/window.h"
#include "runtime/ring_plan.h"
#include "runtime/window_memory.h"

namespace prima::runtime {

enum class KvOpKind { clear_all, remove, copy };

struct KvOperation {
  KvOpKind op = KvOpKind::clear_all;
  int32_t seq = 0;      // remove: the sequence; copy: source
  int32_t seq_dst = 0;  // copy: destination
  int32_t p0 = 0;       // remove: keep positions [0, p0)
};

// Time of the last forward(), split.
struct ForwardTiming {
  int64_t pagein_ns = 0;   // touching the window's pages (waiting for the disk when they were not in)
  int64_t compute_ns = 0;
};

class DeviceWindows {
 public:
  // head: the head's output layer and embedding (window_memory.h).
  DeviceWindows(const model::Model& model, const std::vector<LayerRange>& ranges, model::KvConfig kv, int n_threads,
                const MemoryOptions& mem = {}, const HeadRanges& head = {}, int32_t n_ubatch = 512);

  size_t n_cycles() const { return windows_.size(); }
  const model::Window& window(size_t cycle) const { return *windows_[cycle]; }
  kernels::ThreadPool& pool() { return pool_; }
  const model::KvConfig& kv_config() const { return kv_; }
  uint64_t weight_bytes() const;  // of every window
  std::vector<LayerRange> ranges() const;

  // x: [batch.n_tokens][n_embd] in and out, through the window of `cycle` (streamed layers are paged in and
  // dropped one by one as they are used). Call done(cycle) once the result is handed on: that is when the layers
  // that come next are prefetched.
  Status forward(size_t cycle, const model::Batch& batch, float* x);
  void done(size_t cycle) { memory_->after(cycle); }
  const ForwardTiming& last_timing() const { return timing_; }
  const WindowMemory& memory() const { return *memory_; }
  // Would the batch fit every window's cache (positions in range, no gaps)?
  Status check(const model::Batch& batch) const;
  Status apply(const KvOperation& op);
  int32_t seq_len(int32_t seq) const { return windows_.front()->kv().seq_len(seq); }

 private:
  model::KvConfig kv_;
  kernels::ThreadPool pool_;
  std::vector<std::unique_ptr<model::Window>> windows_;
  model::Workspace ws_;
  std::unique_ptr<WindowMemory> memory_;
  ForwardTiming timing_;
};

}  // namespace prima::runtime
